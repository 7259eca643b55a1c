"""How batch work runs: Celery tasks (broker mode) or a thread pool (embedded mode), both thin
layers over ``qa_scoring.batches`` and ``qa_scoring.webhooks``.

Start a worker with ``celery -A qa_scoring.tasks worker`` (or ``qa-scoring worker``); it reads
the same settings as the API (QA_SCORING_DATABASE_URL, QA_SCORING_BROKER_URL).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

from celery import Celery, Task
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from qa_scoring import batches, webhooks
from qa_scoring.config import Settings, get_settings
from qa_scoring.engine import chunked
from qa_scoring.scorers import TenantScorers
from qa_scoring.scoring import Score
from qa_scoring.storage.db import migrate, session_factory

log = logging.getLogger(__name__)
WEBHOOK_BASE_DELAY_S = float(os.environ.get("QA_SCORING_WEBHOOK_BASE_DELAY", "2"))


@dataclass
class Runtime:
    """What scoring work needs in one process: settings, sessions, scorers."""

    settings: Settings
    sessions: sessionmaker[Session]
    scorers: TenantScorers

    @classmethod
    def from_settings(cls, settings: Settings) -> Runtime:
        migrate(settings.database_url)  # idempotent; concurrent starters queue on a lock
        return cls(settings, session_factory(settings.database_url), TenantScorers(settings))

    def score_chunk(self, tenant: str, batch_id: str, ids: Sequence[str]) -> batches.ChunkResult:
        return batches.score_chunk(self.sessions, self.scorers, tenant, batch_id, ids)


class Dispatcher(Protocol):
    def score_chunks(self, tenant: str, batch_id: str, chunks: list[list[str]]) -> None: ...

    def deliver(self, delivery_ids: Sequence[int]) -> None: ...


# ---- broker mode -------------------------------------------------------------------------------

app = Celery("qa_scoring")


def configure(settings: Settings) -> None:
    """Point the Celery app at the settings' broker. Done at import for workers (``celery -A``)
    and again by the API's dispatcher, whose settings may be overridden by ``create_app``."""
    app.conf.update(
        broker_url=settings.broker_url or "memory://",
        result_backend=settings.result_backend,
        task_ignore_result=True,  # progress lives in the database, not in task results
        task_serializer="json",
        accept_content=["json"],
        task_acks_late=True,  # a chunk is acknowledged only once its scores are committed
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,  # chunks are long: don't let one worker hoard them
        # One queue name per deployment: several deployments (or test runs) share a Redis.
        task_default_queue=os.environ.get("QA_SCORING_TASK_QUEUE", "qa_scoring"),
        broker_connection_retry_on_startup=True,
    )


configure(get_settings())
_runtime: Runtime | None = None
_runtime_lock = threading.Lock()


def worker_runtime() -> Runtime:
    """Built on a worker's first task, not at import (the CLI imports this module too)."""
    global _runtime
    with _runtime_lock:
        if _runtime is None:
            _runtime = Runtime.from_settings(get_settings())
        return _runtime


@app.task(
    bind=True,
    name="qa_scoring.score_chunk",
    autoretry_for=(OperationalError,),  # database unreachable or a lock timeout: try again
    retry_backoff=2,
    retry_backoff_max=120,
    max_retries=10,
)
def score_chunk(self: Task, tenant: str, batch_id: str, ids: list[str]) -> int:
    result = worker_runtime().score_chunk(tenant, batch_id, ids)
    for delivery_id in result.deliveries:
        deliver_webhook.delay(delivery_id)
    return len(result.scores)


@app.task(bind=True, name="qa_scoring.deliver_webhook", max_retries=webhooks.MAX_ATTEMPTS - 1)
def deliver_webhook(self: Task, delivery_id: int) -> None:
    final = self.request.retries >= self.max_retries
    if not webhooks.attempt(worker_runtime().sessions, delivery_id, final=final) and not final:
        raise self.retry(countdown=WEBHOOK_BASE_DELAY_S * 2**self.request.retries)


class CeleryDispatcher:
    def __init__(self, settings: Settings) -> None:
        configure(settings)
        self.queue = app.conf.task_default_queue

    def score_chunks(self, tenant: str, batch_id: str, chunks: list[list[str]]) -> None:
        for ids in chunks:
            score_chunk.apply_async((tenant, batch_id, ids), queue=self.queue)

    def deliver(self, delivery_ids: Sequence[int]) -> None:
        for delivery_id in delivery_ids:
            deliver_webhook.apply_async((delivery_id,), queue=self.queue)

    @staticmethod
    def ping() -> None:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)


# ---- embedded mode -----------------------------------------------------------------------------


class InProcessDispatcher:
    """The same functions on threads. Webhooks get their own pool: their backoff sleeps must
    not hold up scoring."""

    def __init__(
        self,
        runtime: Runtime,
        workers: int = 2,
        on_scored: Callable[[list[Score]], None] = lambda scores: None,
        webhook_base_delay_s: float = WEBHOOK_BASE_DELAY_S,
    ) -> None:
        self.runtime = runtime
        self.on_scored = on_scored
        self.webhook_base_delay_s = webhook_base_delay_s
        self._scoring = ThreadPoolExecutor(workers, thread_name_prefix="qa-batch")
        self._webhooks = ThreadPoolExecutor(2, thread_name_prefix="qa-webhook")

    def score_chunks(self, tenant: str, batch_id: str, chunks: list[list[str]]) -> None:
        for ids in chunks:
            self._scoring.submit(self._run_chunk, tenant, batch_id, ids)

    def _run_chunk(self, tenant: str, batch_id: str, ids: list[str]) -> None:
        for attempt in range(5):
            try:
                result = self.runtime.score_chunk(tenant, batch_id, ids)
                break
            except OperationalError:  # SQLite busy beyond its timeout: back off and retry
                log.warning("chunk of batch %s: database busy, retry %d", batch_id, attempt + 1)
                time.sleep(2**attempt)
            except Exception:  # a thread has no one to raise to; the items stay pending
                log.exception("chunk of batch %s failed; it is re-queued at next start", batch_id)
                return
        else:
            log.error("chunk of batch %s left pending; it is re-queued at next start", batch_id)
            return
        self.on_scored(result.scores)
        self.deliver(result.deliveries)

    def deliver(self, delivery_ids: Sequence[int]) -> None:
        for delivery_id in delivery_ids:
            self._webhooks.submit(
                webhooks.deliver_with_retries,
                self.runtime.sessions,
                delivery_id,
                self.webhook_base_delay_s,
            )

    def resume(self) -> None:
        """Queue again what a previous embedded process accepted but did not score."""
        with self.runtime.sessions() as session:
            pending = batches.unfinished(session)
        for tenant, batch_id, ids in pending:
            self.score_chunks(tenant, batch_id, list(chunked(ids, batches.CHUNK_SIZE)))

    def wait(self) -> None:
        """Finish queued work (tests, benchmarks and shutdown)."""
        self._scoring.shutdown(wait=True)
        self._webhooks.shutdown(wait=True)
