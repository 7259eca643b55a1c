"""Engines, sessions and schema migrations for SQLite (embedded) and PostgreSQL (service)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)  # Chinese stays readable in the database


def make_engine(url: str, **kwargs: Any) -> Engine:
    if make_url(url).get_backend_name() != "sqlite":
        return create_engine(url, json_serializer=_dumps, pool_pre_ping=True, **kwargs)
    engine = create_engine(url, json_serializer=_dumps, connect_args={"timeout": 30}, **kwargs)

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")  # off by default in SQLite
        cursor.execute("PRAGMA journal_mode=WAL")  # the API reads while a batch writes
        cursor.close()

    return engine


def session_factory(url: str) -> sessionmaker[Session]:
    """Sessions on one engine for this URL; keep the factory for the life of the process."""
    return sessionmaker(make_engine(url), expire_on_commit=False)


def alembic_config(url: str) -> Config:
    """Alembic config for the packaged migrations, e.g. for ``command.revision`` when adding one.

    The URL travels in ``attributes``, not the ini options, so that ``%`` in passwords is safe.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["url"] = url
    return config


def migrate(url: str) -> None:
    """Create or upgrade the schema to the newest revision (idempotent; safe at every start)."""
    command.upgrade(alembic_config(url), "head")


def migration_engine(url: str) -> Engine:
    """One short-lived connection for running migrations (no pool left behind)."""
    return make_engine(url, poolclass=NullPool)
