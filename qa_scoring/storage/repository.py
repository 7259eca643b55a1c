"""Plain functions over a Session: everything the CLI, the API and the tasks store and read.

Every function takes the tenant and every query filters by it; nothing here reads across tenants.
Functions run in the caller's transaction (``with sessions.begin() as session: ...``) and commit
nothing, so a conversation and its score are stored together or not at all. Datetime arguments
must be timezone-aware.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import yaml
from sqlalchemy import ColumnElement, Select, exists, func, select, type_coerce, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from qa_scoring.conversation import Conversation
from qa_scoring.errors import FieldError, InputError, NotFound, RubricError
from qa_scoring.evaluation import ScoreRow
from qa_scoring.rubric import parse_rubric
from qa_scoring.scoring import Score
from qa_scoring.storage.models import (
    Base,
    ConversationRecord,
    Override,
    RubricVersion,
    ScoreRecord,
    Tenant,
    utcnow,
)

SCORE_KEY = ("tenant_id", "conversation_id", "rubric_id", "rubric_version")


@dataclass(frozen=True)
class StoredScore:
    id: int
    conversation_id: str  # the helpdesk's id
    rubric_id: str
    rubric_version: str
    overall: float
    passed: bool
    auto_failed: bool
    needs_review: bool
    flags: list[str]
    dimensions: dict[str, float | None]
    agent_id: str
    team: str | None
    started_at: datetime | None  # in the conversation's own UTC offset; naive if it had none
    scored_at: datetime
    score: dict[str, Any]  # Score.to_dict() as stored, evidence included


@dataclass(frozen=True)
class StoredOverride:
    id: int
    score_id: int
    criterion: str | None  # None = the overall score
    value: float
    previous: float | None
    reason: str
    author: str
    created_at: datetime


@dataclass(frozen=True)
class StoredRubric:
    rubric_id: str
    version: str
    yaml_text: str
    active: bool
    created_at: datetime


# ---- helpers -----------------------------------------------------------------------------------


def _insert(session: Session, model: type[Base]) -> Any:
    """An INSERT that knows ON CONFLICT (both supported databases have it)."""
    dialects = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}
    return dialects[session.get_bind().dialect.name](model)


def _upsert(session: Session, model: type[Base], values: dict[str, Any], key: Sequence[str]) -> int:
    """INSERT … ON CONFLICT (key) DO UPDATE in one statement, so two workers storing the same
    thing at once (or a redelivered task) update one row instead of failing or duplicating."""
    stmt = _insert(session, model).values(**values)
    columns = {attr: model.__mapper__.columns[attr] for attr in values if attr not in key}
    stmt = stmt.on_conflict_do_update(
        index_elements=list(key), set_={c: stmt.excluded[c.name] for c in columns.values()}
    )
    row_id: int = session.execute(stmt.returning(model.__mapper__.columns["id"])).scalar_one()
    stale = session.identity_map.get(identity_key(model, row_id))
    if stale is not None:  # loaded earlier in this session: reload it on next access
        session.expire(stale)
    return row_id


def ensure_tenant(session: Session, tenant: str) -> None:
    """Tenants come into being with their first stored row."""
    stmt = _insert(session, Tenant).values(id=tenant).on_conflict_do_nothing(index_elements=["id"])
    session.execute(stmt)


def _split_start(moment: datetime | None) -> tuple[datetime | None, int | None]:
    """(UTC instant, UTC offset in minutes). A naive moment keeps its wall-clock time, stored as
    if UTC, with no offset: the helpdesk did not say where it was."""
    if moment is None:
        return None, None
    offset = moment.utcoffset()
    if offset is None:
        return moment.replace(tzinfo=UTC), None
    return moment.astimezone(UTC), int(offset.total_seconds() // 60)


def _local_start(stored: datetime | None, offset: int | None) -> datetime | None:
    if stored is None:
        return None
    if offset is None:
        return stored.replace(tzinfo=None)
    return stored.astimezone(timezone(timedelta(minutes=offset)))


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))  # rubric versions are numeric


# ---- conversations and scores ------------------------------------------------------------------


def save_conversation(session: Session, tenant: str, conv: Conversation) -> int:
    """Store a validated conversation; the same id again replaces it. Returns the row id."""
    ensure_tenant(session, tenant)
    outcome = conv.outcome
    values = {
        "tenant_id": tenant,
        "external_id": conv.id,
        "agent_id": conv.agent_id,
        "team": conv.team,
        "channel": conv.channel,
        "language": conv.language,
        "started_at": _split_start(conv.started_at)[0],
        "meta": conv.metadata,
        "document": conv.model_dump(mode="json"),
        "csat": outcome.csat if outcome else None,
        "resolved": outcome.resolved if outcome else None,
        "converted": outcome.converted if outcome else None,
        "received_at": utcnow(),
    }
    return _upsert(session, ConversationRecord, values, ("tenant_id", "external_id"))


def _conversation_pk(session: Session, tenant: str, conversation_id: str) -> int:
    pk = session.scalar(
        select(ConversationRecord.id).where(
            ConversationRecord.tenant_id == tenant,
            ConversationRecord.external_id == conversation_id,
        )
    )
    if pk is None:
        raise NotFound(f"conversation {conversation_id!r}")
    return pk


def save_score(
    session: Session,
    tenant: str,
    score: Score,
    conversation_json: Mapping[str, Any] | None = None,
) -> int:
    """Store a score; returns its row id. The same conversation scored again with the same rubric
    id and version replaces the row (same id); another rubric version adds a row.

    With ``conversation_json`` the conversation is stored (or replaced) first, in the same
    transaction; without it, it must have been stored already.
    """
    if conversation_json is not None:
        conv = Conversation.parse(conversation_json)
        if conv.id != score.conversation_id:
            raise InputError(
                [FieldError("id", f"is {conv.id!r}; the score is for {score.conversation_id!r}")],
                conversation_id=conv.id,
            )
        conversation_pk = save_conversation(session, tenant, conv)
    else:
        conversation_pk = _conversation_pk(session, tenant, score.conversation_id)
    started_at, offset = _split_start(score.started_at)
    values = {
        "tenant_id": tenant,
        "conversation_id": conversation_pk,
        "rubric_id": score.rubric["id"],
        "rubric_version": score.rubric["version"],
        "overall": score.overall,
        "passed": score.passed,
        "auto_failed": score.auto_failed,
        "needs_review": score.needs_review,
        "flags": list(score.flags),
        "dimensions": score.dimensions,
        "metrics": score.metrics,
        "models": score.models,
        "document": score.to_dict(),
        "scored_at": utcnow(),
        "agent_id": score.agent_id,
        "team": score.team,
        "started_at": started_at,
        "started_utc_offset": offset,
    }
    return _upsert(session, ScoreRecord, values, SCORE_KEY)


def get_conversation(session: Session, tenant: str, conversation_id: str) -> Conversation:
    document = session.scalar(
        select(ConversationRecord.document).where(
            ConversationRecord.tenant_id == tenant,
            ConversationRecord.external_id == conversation_id,
        )
    )
    if document is None:
        raise NotFound(f"conversation {conversation_id!r}")
    return Conversation.model_validate(document)


def _scores(tenant: str) -> Select[ScoreRecord, str]:
    return (
        select(ScoreRecord, ConversationRecord.external_id)
        .join(ConversationRecord, ScoreRecord.conversation_id == ConversationRecord.id)
        .where(ScoreRecord.tenant_id == tenant)
    )


def _stored(record: ScoreRecord, external_id: str) -> StoredScore:
    return StoredScore(
        id=record.id,
        conversation_id=external_id,
        rubric_id=record.rubric_id,
        rubric_version=record.rubric_version,
        overall=record.overall,
        passed=record.passed,
        auto_failed=record.auto_failed,
        needs_review=record.needs_review,
        flags=record.flags,
        dimensions=record.dimensions,
        agent_id=record.agent_id,
        team=record.team,
        started_at=_local_start(record.started_at, record.started_utc_offset),
        scored_at=record.scored_at,
        score=record.document,
    )


def _has_flag(session: Session, flag: str) -> ColumnElement[bool]:
    if session.get_bind().dialect.name == "postgresql":
        return type_coerce(ScoreRecord.flags, JSONB).contains([flag])  # jsonb @>
    elements = func.json_each(ScoreRecord.flags).table_valued("value")
    return exists(select(1).select_from(elements).where(elements.c.value == flag))


def list_scores(
    session: Session,
    tenant: str,
    *,
    agent_id: str | None = None,
    team: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    flag: str | None = None,
    needs_review: bool | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[StoredScore]:
    """Scores, newest conversation first. ``since`` (inclusive) and ``until`` (exclusive) bound
    the conversation's start; every rubric version's score is listed."""
    stmt = _scores(tenant)
    if agent_id is not None:
        stmt = stmt.where(ScoreRecord.agent_id == agent_id)
    if team is not None:
        stmt = stmt.where(ScoreRecord.team == team)
    if since is not None:
        stmt = stmt.where(ScoreRecord.started_at >= since)
    if until is not None:
        stmt = stmt.where(ScoreRecord.started_at < until)
    if flag is not None:
        stmt = stmt.where(_has_flag(session, flag))
    if needs_review is not None:
        stmt = stmt.where(ScoreRecord.needs_review == needs_review)
    stmt = stmt.order_by(ScoreRecord.started_at.desc().nulls_last(), ScoreRecord.id.desc())
    return [_stored(r, ext) for r, ext in session.execute(stmt.limit(limit).offset(offset))]


def get_latest_score(session: Session, tenant: str, conversation_id: str) -> StoredScore:
    """The most recently stored score of a conversation, whichever rubric version made it."""
    stmt = (
        _scores(tenant)
        .where(ConversationRecord.external_id == conversation_id)
        .order_by(ScoreRecord.scored_at.desc(), ScoreRecord.id.desc())
        .limit(1)
    )
    row = session.execute(stmt).first()
    if row is None:
        raise NotFound(f"score of conversation {conversation_id!r}")
    return _stored(*row)


# ---- overrides ---------------------------------------------------------------------------------


def _override(o: Override) -> StoredOverride:
    return StoredOverride(
        o.id, o.score_id, o.criterion, o.value, o.previous, o.reason, o.author, o.created_at
    )


def add_override(
    session: Session,
    tenant: str,
    score_id: int,
    *,
    value: float,
    reason: str,
    author: str,
    criterion: str | None = None,
) -> StoredOverride:
    """Record a QA lead's correction of one criterion's points, or of the overall score
    (``criterion`` None). The score itself is left as it was scored."""
    record = session.scalar(
        select(ScoreRecord).where(ScoreRecord.tenant_id == tenant, ScoreRecord.id == score_id)
    )
    if record is None:
        raise NotFound(f"score {score_id}")
    if criterion is None:
        previous, most = record.overall, 100.0
    else:
        found = [c for c in record.document["criteria"] if c["criterion"] == criterion]
        if not found:
            raise InputError([FieldError("criterion", f"{criterion!r} is not in this score")])
        previous, most = found[0]["points"], found[0]["points_possible"]
    errors = [
        FieldError(name, reason)
        for name, failed, reason in (
            ("value", not 0 <= value <= most, f"must be between 0 and {most:g}"),
            ("reason", not reason.strip(), "is empty"),
            ("author", not author.strip(), "is empty"),
        )
        if failed
    ]
    if errors:
        raise InputError(errors)
    override = Override(
        tenant_id=tenant,
        score_id=score_id,
        criterion=criterion,
        value=value,
        previous=previous,
        reason=reason,
        author=author,
    )
    session.add(override)
    session.flush()
    return _override(override)


def list_overrides(session: Session, tenant: str, score_id: int) -> list[StoredOverride]:
    """A score's corrections, oldest first (the audit trail)."""
    stmt = (
        select(Override)
        .where(Override.tenant_id == tenant, Override.score_id == score_id)
        .order_by(Override.created_at, Override.id)
    )
    return [_override(o) for o in session.scalars(stmt)]


# ---- rubric versions ---------------------------------------------------------------------------


def _rubric(r: RubricVersion) -> StoredRubric:
    return StoredRubric(r.rubric_id, r.version, r.yaml_text, r.active, r.created_at)


def _rubric_version(
    session: Session, tenant: str, rubric_id: str, version: str
) -> RubricVersion | None:
    return session.scalar(
        select(RubricVersion).where(
            RubricVersion.tenant_id == tenant,
            RubricVersion.rubric_id == rubric_id,
            RubricVersion.version == version,
        )
    )


def save_rubric_version(
    session: Session, tenant: str, yaml_text: str, source: str = "<rubric>"
) -> StoredRubric:
    """Validate a rubric and store it under its id and version. Versions are immutable: the same
    text again is a no-op, different text under a stored version is an error."""
    try:
        data = yaml.safe_load(yaml_text)
    except yaml.YAMLError as exc:
        raise RubricError(source, [FieldError("(file)", f"not valid YAML: {exc}")]) from None
    rubric = parse_rubric(data, source)
    existing = _rubric_version(session, tenant, rubric.id, rubric.version)
    if existing is not None:
        if existing.yaml_text != yaml_text:
            reason = f"{rubric.version} of {rubric.id} is stored with other content; bump it"
            raise RubricError(source, [FieldError("version", reason)])
        return _rubric(existing)
    ensure_tenant(session, tenant)
    record = RubricVersion(
        tenant_id=tenant, rubric_id=rubric.id, version=rubric.version, yaml_text=yaml_text
    )
    session.add(record)
    session.flush()
    return _rubric(record)


def set_active_rubric(session: Session, tenant: str, rubric_id: str, version: str) -> None:
    """Make one stored version the one that scores; the rubric's other versions stand down."""
    target = _rubric_version(session, tenant, rubric_id, version)
    if target is None:
        raise NotFound(f"rubric {rubric_id!r} version {version!r}")
    # Two statements: the one-active index must never see two active rows at once.
    session.execute(
        update(RubricVersion)
        .where(
            RubricVersion.tenant_id == tenant,
            RubricVersion.rubric_id == rubric_id,
            RubricVersion.active,
        )
        .values(active=False)
    )
    session.execute(update(RubricVersion).where(RubricVersion.id == target.id).values(active=True))


def active_rubric(session: Session, tenant: str, rubric_id: str) -> StoredRubric | None:
    """The active version of a rubric; None when the tenant has not chosen one."""
    record = session.scalar(
        select(RubricVersion).where(
            RubricVersion.tenant_id == tenant,
            RubricVersion.rubric_id == rubric_id,
            RubricVersion.active,
        )
    )
    return _rubric(record) if record else None


# ---- evaluation rows ---------------------------------------------------------------------------


def evaluation_rows(
    session: Session,
    tenant: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    rubric_id: str | None = None,
) -> list[ScoreRow]:
    """One row per conversation for ``evaluation.evaluate``: its score by the newest rubric
    version, with the latest overall override (if any) as its overall. Pass and auto-fail stay
    as scored; criterion overrides are the audit trail and training labels, not re-tallied here.

    A conversation without timestamps counts from when it was received. ``since`` / ``until``
    bound that start (inclusive / exclusive).
    """
    start = func.coalesce(ScoreRecord.started_at, ConversationRecord.received_at)
    stmt = (
        select(
            ScoreRecord.id,
            ScoreRecord.conversation_id,
            ScoreRecord.rubric_version,
            ScoreRecord.scored_at,
            ScoreRecord.agent_id,
            ScoreRecord.team,
            ScoreRecord.started_at,
            ScoreRecord.started_utc_offset,
            ScoreRecord.overall,
            ScoreRecord.passed,
            ScoreRecord.auto_failed,
            ScoreRecord.needs_review,
            ScoreRecord.dimensions,
            ConversationRecord.external_id,
            ConversationRecord.received_at,
            ConversationRecord.csat,
            ConversationRecord.converted,
        )
        .join(ConversationRecord, ScoreRecord.conversation_id == ConversationRecord.id)
        .where(ScoreRecord.tenant_id == tenant)
    )
    if since is not None:
        stmt = stmt.where(start >= since)
    if until is not None:
        stmt = stmt.where(start < until)
    if rubric_id is not None:
        stmt = stmt.where(ScoreRecord.rubric_id == rubric_id)

    newest: dict[int, Any] = {}
    for row in session.execute(stmt):
        key = (_version_key(row.rubric_version), row.scored_at, row.id)
        kept = newest.get(row.conversation_id)
        if kept is None or key > (_version_key(kept.rubric_version), kept.scored_at, kept.id):
            newest[row.conversation_id] = row

    overridden = dict(
        session.execute(
            select(Override.score_id, Override.value)
            .where(
                Override.tenant_id == tenant,
                Override.criterion.is_(None),
                Override.score_id.in_(stmt.with_only_columns(ScoreRecord.id)),
            )
            .order_by(Override.created_at, Override.id)  # the latest correction wins
        ).all()
    )
    return [
        ScoreRow(
            agent_id=r.agent_id,
            team=r.team,
            started_at=_local_start(r.started_at, r.started_utc_offset) or r.received_at,
            overall=overridden.get(r.id, r.overall),
            passed=r.passed,
            auto_failed=r.auto_failed,
            needs_review=r.needs_review,
            dimensions=r.dimensions,
            csat=r.csat,
            converted=r.converted,
            conversation_id=r.external_id,
        )
        for r in newest.values()
    ]
