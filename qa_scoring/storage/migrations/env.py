"""Alembic environment, run programmatically by ``qa_scoring.storage.db.migrate``."""

from alembic import context
from sqlalchemy import text

from qa_scoring.storage.db import migration_engine
from qa_scoring.storage.models import Base

# Any fixed number: concurrent starters (API workers, Celery workers) queue on it, so exactly
# one of them migrates and the others find the schema already at head.
MIGRATION_LOCK = 7_331_001

config = context.config
engine = migration_engine(config.attributes["url"])
try:
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",  # SQLite ALTERs copy the table
            compare_type=True,
        )
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK}
                )
            context.run_migrations()
finally:
    engine.dispose()
