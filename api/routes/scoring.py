"""Scoring: one conversation synchronously, or a batch job."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request, url_for

from api import schemas
from api.auth import Principal
from api.openapi import json_body, operation
from api.problems import Problem
from api.services import services
from qa_scoring import batches
from qa_scoring.conversation import Conversation
from qa_scoring.errors import FieldError
from qa_scoring.parsing import parse_json, parse_jsonl
from qa_scoring.service import score_conversations

bp = Blueprint("scoring", __name__, url_prefix="/v1")
SUBMITTERS = ("admin", "qa_lead", "integration")
NDJSON = ("application/x-ndjson", "application/jsonl", "application/x-jsonlines")


@bp.post("/score")
@operation(
    "Score one conversation now, store it, and return the full score",
    tag="scoring",
    roles=SUBMITTERS,
    raw_body={"application/json": {"schema": {"$ref": "#/components/schemas/Conversation"}}},
    refs=(Conversation,),
    response=schemas.ScoreDocument,
)
def score(who: Principal) -> Any:
    conversation = Conversation.parse(json_body())  # InputError → 422 naming the fields
    svc = services()
    with svc.sessions() as session:
        scorer = svc.runtime.scorers.for_tenant(session, who.tenant)
    # No SQL runs before scoring finishes, so no transaction is open while the model runs.
    with svc.sessions.begin() as session:
        [result] = score_conversations(scorer, [conversation], session=session, tenant=who.tenant)
        deliveries = batches.flagged(session, who.tenant, result) if result.needs_review else []
    svc.dispatcher.deliver(deliveries)
    svc.metrics.record_scores([result])
    return result.to_dict()


@bp.post("/batches")
@operation(
    "Submit a batch (JSONL or a JSON array); bad lines become per-conversation errors",
    tag="scoring",
    roles=SUBMITTERS,
    raw_body={
        "application/x-ndjson": {"schema": {"type": "string", "description": "one per line"}},
        "application/json": {
            "schema": {"type": "array", "items": {"$ref": "#/components/schemas/Conversation"}}
        },
    },
    refs=(Conversation,),
    response=schemas.BatchAccepted,
    status=202,
)
def submit_batch(who: Principal) -> Any:
    mimetype = request.mimetype
    raw = request.get_data()
    if mimetype in NDJSON:
        records = parse_jsonl(raw.splitlines(keepends=True))
    elif mimetype == "application/json":
        records = parse_json(raw)
    else:
        raise Problem(415, f"send {NDJSON[0]} or application/json, not {mimetype or 'nothing'}")
    svc = services()
    with svc.sessions.begin() as session:  # accepted conversations are stored before queuing
        created = batches.create_batch(session, who.tenant, records)
    if not created.total:
        raise Problem(422, "no conversations in the body", [FieldError("(body)", "is empty")])
    svc.dispatcher.score_chunks(who.tenant, created.id, created.chunks)
    svc.dispatcher.deliver(created.deliveries)
    status_url = url_for("scoring.batch_status", batch_id=created.id)
    body = schemas.BatchAccepted(
        id=created.id,
        state="queued" if created.accepted else "done",
        total=created.total,
        accepted=created.accepted,
        invalid=created.invalid,
        status_url=status_url,
        results_url=url_for("scoring.batch_results", batch_id=created.id),
    )
    return body.model_dump(), 202, {"Location": status_url}


@bp.get("/batches/<batch_id>")
@operation(
    "A batch's state, progress counts and per-conversation errors",
    tag="scoring",
    roles=SUBMITTERS,
    response=schemas.BatchStatus,
)
def batch_status(who: Principal, batch_id: str) -> Any:
    with services().sessions() as session:
        return batches.status(session, who.tenant, batch_id)


@bp.get("/batches/<batch_id>/results")
@operation(
    "A batch's results, one page at a time, in submission order",
    tag="scoring",
    roles=SUBMITTERS,
    query=schemas.Page,
    response=schemas.BatchResults,
)
def batch_results(who: Principal, batch_id: str, query: schemas.Page) -> Any:
    with services().sessions() as session:
        return batches.results(session, who.tenant, batch_id, query.page, query.per_page)
