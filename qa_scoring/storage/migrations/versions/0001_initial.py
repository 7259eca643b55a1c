"""Initial schema: tenants, conversations, scores, overrides, rubric versions.

Revision ID: 0001
Revises:
Create Date: 2026-11-20
"""

from datetime import datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _ts(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "tenants",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=True),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_tenants"),
    )
    op.create_table(
        "conversations",
        sa.Column("id", ID, nullable=False),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("external_id", sa.String(200), nullable=False),
        sa.Column("agent_id", sa.String(200), nullable=False),
        sa.Column("team", sa.String(200), nullable=True),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        _ts("started_at", nullable=True),
        sa.Column("metadata", JSON, nullable=False),
        sa.Column("document", JSON, nullable=False),
        sa.Column("csat", sa.Integer(), nullable=True),
        sa.Column("resolved", sa.Boolean(), nullable=True),
        sa.Column("converted", sa.Boolean(), nullable=True),
        _ts("received_at"),
        sa.PrimaryKeyConstraint("id", name="pk_conversations"),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name="fk_conversations_tenant_id_tenants"
        ),
        sa.UniqueConstraint(
            "tenant_id", "external_id", name="uq_conversations_tenant_id_external_id"
        ),
    )
    op.create_table(
        "scores",
        sa.Column("id", ID, nullable=False),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("conversation_id", ID, nullable=False),
        sa.Column("rubric_id", sa.String(100), nullable=False),
        sa.Column("rubric_version", sa.String(20), nullable=False),
        sa.Column("overall", sa.Float(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("auto_failed", sa.Boolean(), nullable=False),
        sa.Column("needs_review", sa.Boolean(), nullable=False),
        sa.Column("flags", JSON, nullable=False),
        sa.Column("dimensions", JSON, nullable=False),
        sa.Column("metrics", JSON, nullable=False),
        sa.Column("models", JSON, nullable=False),
        sa.Column("document", JSON, nullable=False),
        _ts("scored_at"),
        sa.Column("agent_id", sa.String(200), nullable=False),
        sa.Column("team", sa.String(200), nullable=True),
        _ts("started_at", nullable=True),
        sa.Column("started_utc_offset", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_scores"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name="fk_scores_tenant_id_tenants"),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name="fk_scores_conversation_id_conversations",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "tenant_id",
            "conversation_id",
            "rubric_id",
            "rubric_version",
            name="uq_scores_tenant_id_conversation_id_rubric_id_rubric_version",
        ),
    )
    op.create_index("ix_scores_conversation_id", "scores", ["conversation_id"])
    op.create_index("ix_scores_tenant_agent", "scores", ["tenant_id", "agent_id", "started_at"])
    op.create_index("ix_scores_tenant_team", "scores", ["tenant_id", "team", "started_at"])
    op.create_table(
        "overrides",
        sa.Column("id", ID, nullable=False),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("score_id", ID, nullable=False),
        sa.Column("criterion", sa.String(100), nullable=True),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("previous", sa.Float(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("author", sa.String(200), nullable=False),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_overrides"),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name="fk_overrides_tenant_id_tenants"
        ),
        sa.ForeignKeyConstraint(
            ["score_id"], ["scores.id"], name="fk_overrides_score_id_scores", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_overrides_score_id", "overrides", ["score_id"])
    op.create_table(
        "rubric_versions",
        sa.Column("id", ID, nullable=False),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("rubric_id", sa.String(100), nullable=False),
        sa.Column("version", sa.String(20), nullable=False),
        sa.Column("yaml_text", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_rubric_versions"),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name="fk_rubric_versions_tenant_id_tenants"
        ),
        sa.UniqueConstraint(
            "tenant_id",
            "rubric_id",
            "version",
            name="uq_rubric_versions_tenant_id_rubric_id_version",
        ),
    )
    op.create_index(
        "uq_rubric_versions_active",
        "rubric_versions",
        ["tenant_id", "rubric_id"],
        unique=True,
        sqlite_where=sa.text("active"),
        postgresql_where=sa.text("active"),
    )


def downgrade() -> None:
    op.drop_table("rubric_versions")
    op.drop_table("overrides")
    op.drop_table("scores")
    op.drop_table("conversations")
    op.drop_table("tenants")
