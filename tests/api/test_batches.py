"""Batches end to end over HTTP: ≥200 conversations, every one scored exactly once, and a
resubmission duplicating nothing. Embedded (SQLite + in-process threads) and service mode
(PostgreSQL + Redis + a real Celery worker subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from api.auth import create_key
from qa_scoring.storage.models import ScoreRecord
from tests.api.conftest import bearer, conversations

N = 240
QA_SCORING = str(Path(sys.executable).with_name("qa-scoring"))
REDIS_URL = os.environ.get("QA_SCORING_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def celery_worker(pg_schema_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A real worker on its own queue (other runs may share this Redis), solo pool."""
    queue = f"qa_scoring_test_{uuid.uuid4().hex[:10]}"
    monkeypatch.setenv("QA_SCORING_TASK_QUEUE", queue)
    env = os.environ | {
        "QA_SCORING_DATABASE_URL": pg_schema_url,
        "QA_SCORING_BROKER_URL": REDIS_URL,
        "QA_SCORING_TASK_QUEUE": queue,
        "QA_SCORING_CLASSIFIER": "lexical",
    }
    # `qa-scoring worker` is what the image runs; it execs `celery -A qa_scoring.tasks worker`.
    worker = subprocess.Popen(
        [
            QA_SCORING,
            "worker",
            "--pool",
            "solo",
            "-Q",
            queue,
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=WARNING",
        ],
        env=env,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        yield pg_schema_url
    finally:
        worker.terminate()
        worker.wait(timeout=30)


@pytest.fixture(
    params=[
        "embedded",
        pytest.param("celery", marks=[pytest.mark.celery, pytest.mark.redis, pytest.mark.postgres]),
    ]
)
def service(request: pytest.FixtureRequest, make_app: Callable[..., Flask]) -> Flask:
    if request.param == "embedded":
        return make_app()
    url = request.getfixturevalue("celery_worker")
    return make_app(DATABASE_URL=url, BROKER_URL=REDIS_URL)


def _wait_done(client, url: str, headers: dict[str, str], timeout_s: float = 150) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        status = client.get(url, headers=headers).json
        if status["state"] == "done":
            return status
        assert time.monotonic() < deadline, status
        time.sleep(0.2)


def test_batch_scores_every_conversation_exactly_once(service: Flask) -> None:
    client = service.test_client()
    svc = service.extensions["qa_scoring"]
    with svc.sessions.begin() as session:
        headers = bearer(create_key(session, "shop-a", "integration")[0])
    body = "\n".join(json.dumps(c, ensure_ascii=False) for c in conversations(N)).encode()

    first = client.post(
        "/v1/batches", data=body, headers=headers, content_type="application/x-ndjson"
    )
    assert first.status_code == 202 and first.json["accepted"] == N
    status = _wait_done(client, first.json["status_url"], headers)
    assert (status["total"], status["scored"], status["failed"]) == (N, N, 0)

    def score_rows() -> tuple[int, int]:
        with svc.sessions() as session:
            rows = session.scalar(select(func.count()).select_from(ScoreRecord))
            distinct = session.scalar(
                select(func.count(func.distinct(ScoreRecord.conversation_id)))
            )
        return rows, distinct

    assert score_rows() == (N, N)

    again = client.post(
        "/v1/batches", data=body, headers=headers, content_type="application/x-ndjson"
    )
    assert again.json["id"] != first.json["id"]
    assert _wait_done(client, again.json["status_url"], headers)["scored"] == N
    assert score_rows() == (N, N)  # same rubric version: upserted, not duplicated

    seen = []
    for page in (1, 2, 3):
        results = client.get(
            f"{first.json['results_url']}?page={page}&per_page=100", headers=headers
        ).json
        seen += [
            (i["conversation_id"], i["state"], i["score"]["conversation_id"])
            for i in results["items"]
        ]
    assert len(seen) == N and all(s == "scored" and a == b for a, s, b in seen)
    assert len({a for a, _, _ in seen}) == N


def test_a_redelivered_chunk_changes_nothing(app: Flask) -> None:
    """``acks_late`` may run a chunk twice: the second run finds nothing pending."""
    from qa_scoring import batches
    from qa_scoring.parsing import parse_json

    svc = app.extensions["qa_scoring"]
    body = json.dumps(conversations(10, prefix="r")).encode()
    with svc.sessions.begin() as session:
        created = batches.create_batch(session, "shop-a", parse_json(body), chunk_size=10)
    [chunk] = created.chunks
    first = batches.score_chunk(svc.sessions, svc.runtime.scorers, "shop-a", created.id, chunk)
    second = batches.score_chunk(svc.sessions, svc.runtime.scorers, "shop-a", created.id, chunk)
    assert (len(first.scores), len(second.scores), second.deliveries) == (10, 0, [])
    with svc.sessions() as session:
        status = batches.status(session, "shop-a", created.id)
        assert session.scalar(select(func.count()).select_from(ScoreRecord)) == 10
    assert (status["state"], status["scored"], status["pending"]) == ("done", 10, 0)
