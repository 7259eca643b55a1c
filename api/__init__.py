"""The qa-scoring HTTP service: ``create_app()`` builds a Flask app (nothing happens at import).

Settings come from the environment (``qa_scoring.config``); ``config`` overrides them and the
app's own options, e.g. ``create_app({"DATABASE_URL": ..., "RATE_LIMIT": "5/minute"})``.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from typing import Any

from flask import Flask

from qa_scoring.config import get_settings


def _defaults() -> dict[str, Any]:
    env = os.environ.get
    return {
        "MAX_CONTENT_LENGTH": int(env("QA_SCORING_MAX_BODY_BYTES", str(64 * 1024 * 1024))),
        "RATE_LIMIT": env("QA_SCORING_RATE_LIMIT", "600/minute"),
        "RATE_LIMIT_REDIS_URL": env("QA_SCORING_RATE_LIMIT_REDIS_URL"),
        "EMBEDDED_WORKERS": int(env("QA_SCORING_EMBEDDED_WORKERS", "2")),
        "WEBHOOK_BASE_DELAY": float(env("QA_SCORING_WEBHOOK_BASE_DELAY", "2")),
    }


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    from api import problems
    from api.routes import conversations, rubrics, scoring, system, webhooks
    from api.services import EXTENSION, Services

    app = Flask(__name__)
    app.config.update(_defaults())
    app.config.update(config or {})
    settings = get_settings()
    settings = dataclasses.replace(
        settings,
        database_url=app.config.get("DATABASE_URL", settings.database_url),
        broker_url=app.config.get("BROKER_URL", settings.broker_url),
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # Chinese stays readable
    app.json.sort_keys = False  # type: ignore[attr-defined]
    svc = Services.build(settings, app.config)
    app.extensions[EXTENSION] = svc
    svc.metrics.init_app(app)
    problems.register(app)
    for module in (scoring, conversations, rubrics, webhooks, system):
        app.register_blueprint(module.bp)
    return app
