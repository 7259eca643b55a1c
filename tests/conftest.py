"""Database fixtures: a SQLite file per test, and on the local PostgreSQL a database created for
the test session (dropped after it) with a fresh schema per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

# The server's maintenance database; the suite creates (and drops) its own next to it.
POSTGRES_ADMIN_URL = os.environ.get(
    "QA_SCORING_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _admin_execute(url: str, *statements: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")  # CREATE DATABASE refuses a txn
    try:
        with engine.connect() as conn:
            for statement in statements:
                conn.execute(text(statement))
    finally:
        engine.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'qa_scoring.sqlite3'}"


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A uniquely named, empty database for this test session."""
    name = f"qa_scoring_test_{uuid.uuid4().hex[:12]}"
    _admin_execute(POSTGRES_ADMIN_URL, f'CREATE DATABASE "{name}"')
    try:
        yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        _admin_execute(POSTGRES_ADMIN_URL, f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture
def pg_schema_url(pg_url: str) -> Iterator[str]:
    """An empty schema in the session database, first on the search path of every connection."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    _admin_execute(pg_url, f'CREATE SCHEMA "{schema}"')
    try:
        url = make_url(pg_url).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        _admin_execute(pg_url, f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def db_url(request: pytest.FixtureRequest) -> str:
    """An empty database on each supported backend."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("pg_schema_url")
