"""What the views use, built once per app by the factory and kept in ``app.extensions``."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import func, select, text

from api.metrics import Metrics
from api.ratelimit import Limiter, make_limiter
from qa_scoring.config import Settings
from qa_scoring.evaluation import EvaluationConfig, load_evaluation_config
from qa_scoring.storage.models import BatchItem
from qa_scoring.tasks import CeleryDispatcher, Dispatcher, InProcessDispatcher, Runtime

EXTENSION = "qa_scoring"


@dataclass
class Services:
    settings: Settings
    runtime: Runtime
    dispatcher: Dispatcher
    limiter: Limiter
    metrics: Metrics
    evaluation_config: Callable[[], EvaluationConfig]

    @property
    def sessions(self) -> Any:
        return self.runtime.sessions

    @classmethod
    def build(cls, settings: Settings, config: dict[str, Any]) -> Services:
        runtime = Runtime.from_settings(settings)

        def queue_depth() -> float:
            try:
                with runtime.sessions() as session:
                    pending = select(func.count()).where(BatchItem.state == "pending")
                    return float(session.scalar(pending) or 0)
            except Exception:  # a scrape must not fail because the database is down
                return math.nan

        metrics = Metrics(queue_depth)
        dispatcher: Dispatcher
        if settings.broker_url:
            dispatcher = CeleryDispatcher(settings)
        else:
            embedded = InProcessDispatcher(
                runtime,
                workers=config["EMBEDDED_WORKERS"],
                on_scored=metrics.record_scores,
                webhook_base_delay_s=config["WEBHOOK_BASE_DELAY"],
            )
            embedded.resume()
            dispatcher = embedded
        redis_url = config.get("RATE_LIMIT_REDIS_URL") or settings.broker_url
        evaluation = load_evaluation_config()
        return cls(
            settings,
            runtime,
            dispatcher,
            make_limiter(config["RATE_LIMIT"], redis_url),
            metrics,
            lambda: evaluation,
        )

    def check_ready(self) -> dict[str, str]:
        """Each dependency's state; raises nothing."""
        checks = {}
        try:
            with self.sessions() as session:
                session.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"unreachable: {type(exc).__name__}"
        if isinstance(self.dispatcher, CeleryDispatcher):
            try:
                self.dispatcher.ping()
                checks["broker"] = "ok"
            except Exception as exc:
                checks["broker"] = f"unreachable: {type(exc).__name__}"
        return checks


def services() -> Services:
    return current_app.extensions[EXTENSION]
