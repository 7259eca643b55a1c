"""Stored conversations, their scores, and agent / team evaluations."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from api import schemas
from api.auth import Principal
from api.openapi import operation
from api.problems import Problem
from api.services import services
from qa_scoring.errors import NotFound
from qa_scoring.evaluation import evaluate
from qa_scoring.storage import repository
from qa_scoring.storage.repository import StoredScore

bp = Blueprint("conversations", __name__, url_prefix="/v1")
READERS = ("admin", "qa_lead", "agent")


def _summary(s: StoredScore) -> dict[str, Any]:
    return schemas.ScoreSummary(
        score_id=s.id,
        conversation_id=s.conversation_id,
        agent_id=s.agent_id,
        team=s.team,
        rubric={"id": s.rubric_id, "version": s.rubric_version},
        overall=s.overall,
        passed=s.passed,
        auto_failed=s.auto_failed,
        needs_review=s.needs_review,
        flags=s.flags,
        dimensions=s.dimensions,
        started_at=s.started_at.isoformat() if s.started_at else None,
        scored_at=s.scored_at.isoformat(),
    ).model_dump()


@bp.get("/conversations/<conversation_id>")
@operation(
    "A stored conversation with its latest score",
    tag="conversations",
    roles=READERS,
    response=schemas.ConversationWithScores,
)
def get_conversation(who: Principal, conversation_id: str) -> Any:
    with services().sessions() as session:
        conversation = repository.get_conversation(session, who.tenant, conversation_id)
        if who.role == "agent" and conversation.agent_id != who.agent_id:
            raise NotFound(f"conversation {conversation_id!r}")  # not theirs: as if absent
        try:
            scores = [repository.get_latest_score(session, who.tenant, conversation_id).score]
        except NotFound:
            scores = []
    return {"conversation": conversation.model_dump(mode="json"), "scores": scores}


@bp.get("/conversations")
@operation(
    "Search scored conversations, newest first",
    tag="conversations",
    roles=READERS,
    query=schemas.ConversationQuery,
    response=schemas.ConversationList,
)
def search(who: Principal, query: schemas.ConversationQuery) -> Any:
    agent_id = query.agent_id
    if who.role == "agent":
        if agent_id not in (None, who.agent_id):
            raise Problem(403, "an agent key reads only its own conversations")
        agent_id = who.agent_id
    with services().sessions() as session:
        found = repository.list_scores(
            session,
            who.tenant,
            agent_id=agent_id,
            team=query.team,
            since=query.since,
            until=query.until,
            flag=query.flag,
            needs_review=query.needs_review,
            limit=query.per_page,
            offset=(query.page - 1) * query.per_page,
        )
    return {"page": query.page, "per_page": query.per_page, "items": [_summary(s) for s in found]}


def _evaluations(who: Principal, query: schemas.EvaluationQuery, by: str, key: str) -> Any:
    svc = services()
    with svc.sessions() as session:
        rows = repository.evaluation_rows(session, who.tenant, since=query.since, until=query.until)
    # Ranks compare peers, so evaluate everyone in the tenant, then keep the one asked for.
    found = evaluate(rows, query.period, by, svc.evaluation_config())  # type: ignore[arg-type]
    chosen = [e for e in found if (e.agent_id if by == "agent" else e.team) == key]
    return {"period": query.period, "evaluations": [e.to_dict() for e in chosen]}


@bp.get("/agents/<agent_id>/evaluation")
@operation(
    "An agent's evaluations per week, month or quarter",
    tag="evaluations",
    roles=READERS,
    query=schemas.EvaluationQuery,
    response=schemas.Evaluations,
)
def agent_evaluation(who: Principal, agent_id: str, query: schemas.EvaluationQuery) -> Any:
    if who.role == "agent" and agent_id != who.agent_id:
        raise Problem(403, "an agent key reads only its own evaluation")
    return _evaluations(who, query, "agent", agent_id)


@bp.get("/teams/<team>/evaluation")
@operation(
    "A team's evaluations per week, month or quarter",
    tag="evaluations",
    roles=("admin", "qa_lead"),
    query=schemas.EvaluationQuery,
    response=schemas.Evaluations,
)
def team_evaluation(who: Principal, team: str, query: schemas.EvaluationQuery) -> Any:
    return _evaluations(who, query, "team", team)
