"""SQLAlchemy models: the only place that knows table shapes. Everything above the storage layer
sees plain objects (``repository`` converts).

One ``Base`` for every table, so the service's later tables (API keys, batches, webhooks) join the
same metadata and the same linear Alembic history. Every row belongs to a tenant.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Named constraints: SQLite batch migrations can only drop or alter what has a name.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JSONDoc = JSON().with_variant(JSONB(), "postgresql")
# SQLite autoincrements only an INTEGER PRIMARY KEY.
Id = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware in, UTC-aware out, on PostgreSQL (timestamptz) and SQLite (text) alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; store timezone-aware values only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSONDoc,
        list[Any]: JSONDoc,
        datetime: UTCDateTime,
    }


def tenant_fk() -> Mapped[str]:
    # No index of its own: lookup keys lead with tenant_id (overrides are reached via scores).
    return mapped_column(String(64), ForeignKey("tenants.id"))


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConversationRecord(Base):
    """The validated conversation as received; re-ingesting the same id replaces it."""

    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("tenant_id", "external_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    tenant_id: Mapped[str] = tenant_fk()
    external_id: Mapped[str] = mapped_column(String(200))
    agent_id: Mapped[str] = mapped_column(String(200))
    team: Mapped[str | None] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(8))
    # A conversation without UTC offsets is stored as its wall-clock time read as UTC.
    started_at: Mapped[datetime | None]
    meta: Mapped[dict[str, Any]] = mapped_column("metadata")
    document: Mapped[dict[str, Any]]
    csat: Mapped[int | None]
    resolved: Mapped[bool | None]
    converted: Mapped[bool | None]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class ScoreRecord(Base):
    """One conversation scored by one rubric version. Re-scoring with the same rubric version
    replaces the row in place (same id, so overrides stay attached); nothing else changes it."""

    __tablename__ = "scores"
    __table_args__ = (
        UniqueConstraint("tenant_id", "conversation_id", "rubric_id", "rubric_version"),
        Index("ix_scores_tenant_agent", "tenant_id", "agent_id", "started_at"),
        Index("ix_scores_tenant_team", "tenant_id", "team", "started_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    tenant_id: Mapped[str] = tenant_fk()
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    rubric_id: Mapped[str] = mapped_column(String(100))
    rubric_version: Mapped[str] = mapped_column(String(20))
    overall: Mapped[float] = mapped_column(Float)
    passed: Mapped[bool] = mapped_column(Boolean)
    auto_failed: Mapped[bool] = mapped_column(Boolean)
    needs_review: Mapped[bool] = mapped_column(Boolean)
    flags: Mapped[list[Any]]
    dimensions: Mapped[dict[str, Any]]
    metrics: Mapped[dict[str, Any]]
    models: Mapped[dict[str, Any]]
    document: Mapped[dict[str, Any]]  # Score.to_dict(), evidence included
    scored_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Denormalised from the conversation for aggregation without a join. The UTC offset the
    # conversation was stamped with (minutes) lets periods be cut in its own local time;
    # None when it had no offset (then started_at holds its wall-clock time).
    agent_id: Mapped[str] = mapped_column(String(200))
    team: Mapped[str | None] = mapped_column(String(200))
    started_at: Mapped[datetime | None]
    started_utc_offset: Mapped[int | None]


class Override(Base):
    """A QA lead's correction: a new record pointing at a score, never an edit of it."""

    __tablename__ = "overrides"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    tenant_id: Mapped[str] = tenant_fk()
    score_id: Mapped[int] = mapped_column(ForeignKey("scores.id", ondelete="CASCADE"), index=True)
    criterion: Mapped[str | None] = mapped_column(String(100))  # None = the overall score
    value: Mapped[float] = mapped_column(Float)  # new points, or new overall (0–100)
    previous: Mapped[float | None] = mapped_column(Float)  # the automatic value it corrects
    reason: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RubricVersion(Base):
    __tablename__ = "rubric_versions"
    __table_args__ = (
        UniqueConstraint("tenant_id", "rubric_id", "version"),
        # At most one active version per rubric id (zh and en rubrics are active side by side).
        Index(
            "uq_rubric_versions_active",
            "tenant_id",
            "rubric_id",
            unique=True,
            sqlite_where=text("active"),
            postgresql_where=text("active"),
        ),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    tenant_id: Mapped[str] = tenant_fk()
    rubric_id: Mapped[str] = mapped_column(String(100))
    version: Mapped[str] = mapped_column(String(20))
    yaml_text: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# ---- service tables (API keys, batch jobs, webhooks) -------------------------------------------


class ApiKey(Base):
    """An API key: only a salted SHA-256 of it is kept; ``prefix`` finds the row."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    tenant_id: Mapped[str] = tenant_fk()
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    salt: Mapped[str] = mapped_column(String(32))
    key_hash: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(20))
    agent_id: Mapped[str | None] = mapped_column(String(200))  # set for role "agent"
    name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class Batch(Base):
    """A batch job. Progress is derived from its items' states, never counted up."""

    __tablename__ = "batches"
    __table_args__ = (Index("ix_batches_tenant_created", "tenant_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[str] = tenant_fk()
    total: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]


class BatchItem(Base):
    """One line of a batch: pending → scored | failed, or invalid from the start."""

    __tablename__ = "batch_items"
    __table_args__ = (
        UniqueConstraint("batch_id", "seq"),
        Index("ix_batch_items_batch_state", "batch_id", "state"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    batch_id: Mapped[str] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"))
    tenant_id: Mapped[str] = tenant_fk()
    seq: Mapped[int] = mapped_column(Integer)
    location: Mapped[str | None] = mapped_column(String(50))  # "line 7", "item 3"
    conversation_id: Mapped[str | None] = mapped_column(String(200))  # the helpdesk's id
    state: Mapped[str] = mapped_column(String(10))
    errors: Mapped[list[Any] | None] = mapped_column(JSONDoc)
    score_id: Mapped[int | None] = mapped_column(ForeignKey("scores.id", ondelete="SET NULL"))


class Webhook(Base):
    """A receiver URL. The secret is kept as given: signing needs it (HMAC), unlike API keys."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    tenant_id: Mapped[str] = tenant_fk()
    url: Mapped[str] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(String(200))
    events: Mapped[list[Any]]
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookDelivery(Base):
    """One event for one webhook, with its delivery attempts."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    tenant_id: Mapped[str] = tenant_fk()
    webhook_id: Mapped[int] = mapped_column(
        ForeignKey("webhooks.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[str] = mapped_column(String(300))
    event_type: Mapped[str] = mapped_column(String(50))
    payload: Mapped[dict[str, Any]]
    state: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]
