"""Batch jobs as plain functions over a Session: create (persist every accepted conversation
before anything is queued), score one chunk, report progress and results.

Progress is derived from item states (pending / scored / failed / invalid), never counted up, so
a chunk that runs twice (an ``acks_late`` redelivery) changes nothing the second time: its items
are no longer pending, and the score upsert is keyed by (tenant, conversation, rubric version).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from qa_scoring import webhooks
from qa_scoring.conversation import Conversation
from qa_scoring.engine import chunked
from qa_scoring.errors import InputError, NotFound
from qa_scoring.parsing import Parsed
from qa_scoring.pipeline import Scorer
from qa_scoring.scorers import TenantScorers
from qa_scoring.scoring import Score
from qa_scoring.storage import repository
from qa_scoring.storage.models import Batch, BatchItem, ScoreRecord, utcnow

STATES = ("pending", "scored", "failed", "invalid")
CHUNK_SIZE = 32  # conversations per task: one encoder batch


@dataclass(frozen=True)
class Created:
    id: str
    total: int
    accepted: int
    invalid: int
    chunks: list[list[str]]  # conversation ids to queue
    deliveries: list[int]  # batch.done right away when nothing was accepted


def create_batch(
    session: Session, tenant: str, records: Iterable[Parsed], chunk_size: int = CHUNK_SIZE
) -> Created:
    """Store the batch, every valid conversation and one item per record (bad ones with their
    field errors). The caller commits, then queues ``chunks``."""
    repository.ensure_tenant(session, tenant)
    batch = Batch(id=uuid.uuid4().hex, tenant_id=tenant, total=0)
    session.add(batch)
    session.flush()
    accepted: list[str] = []
    seen: set[str] = set()
    items = []
    for seq, record in enumerate(records):
        item = BatchItem(batch_id=batch.id, tenant_id=tenant, seq=seq)
        if isinstance(record, InputError):
            item.state, item.location = "invalid", record.location
            item.conversation_id = record.conversation_id
            item.errors = record.as_dict()["errors"]
        elif record.id in seen:
            item.state, item.conversation_id = "invalid", record.id
            item.errors = [{"field": "id", "reason": "appears more than once in this batch"}]
        else:
            repository.save_conversation(session, tenant, record)
            item.state, item.conversation_id = "pending", record.id
            accepted.append(record.id)
            seen.add(record.id)
        items.append(item)
    session.add_all(items)
    batch.total = len(items)
    session.flush()
    deliveries = _finish_if_done(session, tenant, batch.id)
    return Created(
        batch.id,
        len(items),
        len(accepted),
        len(items) - len(accepted),
        list(chunked(accepted, chunk_size)),
        deliveries,
    )


@dataclass
class ChunkResult:
    scores: list[Score] = field(default_factory=list)
    deliveries: list[int] = field(default_factory=list)


def score_chunk(
    sessions: sessionmaker[Session],
    scorers: TenantScorers,
    tenant: str,
    batch_id: str,
    ids: Sequence[str],
) -> ChunkResult:
    """Score the still-pending items among ``ids`` and store the scores. Reading, scoring and
    storing are three steps so no transaction stays open while the model runs. A conversation
    the scorer cannot handle becomes a failed item; database errors propagate (task retry)."""
    with sessions() as session:
        pending = session.scalars(
            select(BatchItem.conversation_id).where(
                BatchItem.batch_id == batch_id,
                BatchItem.tenant_id == tenant,
                BatchItem.state == "pending",
                BatchItem.conversation_id.in_(ids),
            )
        ).all()
        conversations = [repository.get_conversation(session, tenant, i) for i in pending]
        scorer = scorers.for_tenant(session, tenant) if conversations else None
    if scorer is None:
        return ChunkResult()
    outcomes = _score(scorer, conversations)
    with sessions.begin() as session:
        return _store(session, tenant, batch_id, conversations, outcomes)


def _store(
    session: Session,
    tenant: str,
    batch_id: str,
    conversations: list[Conversation],
    outcomes: list[Score | Exception],
) -> ChunkResult:
    _lock(session, batch_id)
    items = {
        item.conversation_id: item
        for item in session.scalars(
            select(BatchItem).where(
                BatchItem.batch_id == batch_id,
                BatchItem.state == "pending",
                BatchItem.conversation_id.in_([c.id for c in conversations]),
            )
        )
    }
    result = ChunkResult()
    for conv, outcome in zip(conversations, outcomes, strict=True):
        item = items.get(conv.id)
        if item is None:  # a redelivered copy of this chunk stored it meanwhile
            continue
        if isinstance(outcome, Exception):
            item.state = "failed"
            item.errors = [{"field": "(scoring)", "reason": f"{type(outcome).__name__}: {outcome}"}]
            continue
        item.state, item.score_id = "scored", repository.save_score(session, tenant, outcome)
        result.scores.append(outcome)
        if outcome.needs_review:
            result.deliveries += flagged(session, tenant, outcome)
    session.flush()
    result.deliveries += _finish_if_done(session, tenant, batch_id)
    return result


def _lock(session: Session, batch_id: str) -> None:
    """Take the batch row's write lock as the transaction's first statement.

    On PostgreSQL it serialises the chunks of one batch while they store (so the last one sees
    every other's items when it checks for completion); on SQLite a transaction that writes
    first waits for the database lock instead of failing on a stale read snapshot."""
    session.execute(update(Batch).where(Batch.id == batch_id).values(total=Batch.total))


def _score(scorer: Scorer, conversations: list[Conversation]) -> list[Score | Exception]:
    """One encoder-batched call; when it fails, one by one, so one bad conversation fails
    alone."""
    try:
        return list(scorer.score_many(conversations))
    except Exception:  # isolated below, per conversation
        out: list[Score | Exception] = []
        for conv in conversations:
            try:
                out.append(scorer.score(conv))
            except Exception as exc:  # recorded on the item
                out.append(exc)
        return out


def flagged(session: Session, tenant: str, score: Score) -> list[int]:
    """A ``conversation.flagged`` event for a score that needs a human."""
    rubric = score.rubric
    event_id = f"flagged:{score.conversation_id}:{rubric['id']}:{rubric['version']}"
    data = {
        "conversation_id": score.conversation_id,
        "agent_id": score.agent_id,
        "team": score.team,
        "overall": score.overall,
        "flags": score.flags,
        "review_reasons": score.review_reasons,
        "rubric": rubric,
    }
    return webhooks.emit(session, tenant, "conversation.flagged", event_id, data)


def counts(session: Session, batch_id: str) -> dict[str, int]:
    rows = session.execute(
        select(BatchItem.state, func.count())
        .where(BatchItem.batch_id == batch_id)
        .group_by(BatchItem.state)
    ).all()
    return dict.fromkeys(STATES, 0) | {state: n for state, n in rows}


def _finish_if_done(session: Session, tenant: str, batch_id: str) -> list[int]:
    """Mark the batch finished once nothing is pending and emit ``batch.done`` exactly once.
    Callers hold the batch row's lock (see ``_lock``)."""
    n = counts(session, batch_id)
    if n["pending"]:
        return []
    marked = session.execute(
        update(Batch)
        .where(Batch.id == batch_id, Batch.finished_at.is_(None))
        .values(finished_at=utcnow())
    )
    if marked.rowcount != 1:  # type: ignore[attr-defined]
        return []
    data = {"batch_id": batch_id, "total": sum(n.values()), **n}
    return webhooks.emit(session, tenant, "batch.done", f"batch.done:{batch_id}", data)


def _batch(session: Session, tenant: str, batch_id: str) -> Batch:
    batch = session.scalar(select(Batch).where(Batch.id == batch_id, Batch.tenant_id == tenant))
    if batch is None:
        raise NotFound(f"batch {batch_id!r}")
    return batch


def status(session: Session, tenant: str, batch_id: str) -> dict[str, Any]:
    batch = _batch(session, tenant, batch_id)
    n = counts(session, batch_id)
    state = "done" if not n["pending"] else "running" if n["scored"] + n["failed"] else "queued"
    errors = session.execute(
        select(BatchItem.seq, BatchItem.location, BatchItem.conversation_id, BatchItem.errors)
        .where(BatchItem.batch_id == batch_id, BatchItem.state.in_(("invalid", "failed")))
        .order_by(BatchItem.seq)
    ).all()
    return {
        "id": batch.id,
        "state": state,
        "total": batch.total,
        "scored": n["scored"],
        "failed": n["failed"] + n["invalid"],
        "pending": n["pending"],
        "invalid": n["invalid"],
        "created_at": batch.created_at.isoformat(),
        "finished_at": batch.finished_at.isoformat() if batch.finished_at else None,
        "errors": [
            {
                "index": e.seq,
                "location": e.location,
                "conversation_id": e.conversation_id,
                "errors": e.errors,
            }
            for e in errors
        ],
    }


def results(
    session: Session, tenant: str, batch_id: str, page: int, per_page: int
) -> dict[str, Any]:
    batch = _batch(session, tenant, batch_id)
    rows = session.execute(
        select(BatchItem, ScoreRecord.document)
        .outerjoin(ScoreRecord, BatchItem.score_id == ScoreRecord.id)
        .where(BatchItem.batch_id == batch_id)
        .order_by(BatchItem.seq)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return {
        "batch_id": batch.id,
        "page": page,
        "per_page": per_page,
        "total": batch.total,
        "items": [
            {
                "index": item.seq,
                "conversation_id": item.conversation_id,
                "state": item.state,
                "score": document,
                "errors": item.errors,
            }
            for item, document in rows
        ],
    }


def unfinished(session: Session) -> list[tuple[str, str, list[str]]]:
    """(tenant, batch id, pending conversation ids) of every unfinished batch: what an embedded
    process re-queues at start, since its in-memory queue died with the previous process."""
    rows = session.execute(
        select(BatchItem.tenant_id, BatchItem.batch_id, BatchItem.conversation_id)
        .where(BatchItem.state == "pending")
        .order_by(BatchItem.batch_id, BatchItem.seq)
    ).all()
    grouped: dict[tuple[str, str], list[str]] = {}
    for tenant, batch_id, conv_id in rows:
        grouped.setdefault((tenant, batch_id), []).append(conv_id)
    return [(t, b, ids) for (t, b), ids in grouped.items()]
