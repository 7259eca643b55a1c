"""Prometheus metrics on a registry per app (several apps in one test process stay apart).

Under gunicorn each worker process serves its own numbers; the queue depth is read from the
database, so it is the same everywhere."""

from __future__ import annotations

import time
from collections.abc import Callable

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from qa_scoring.scoring import Score


class Metrics:
    def __init__(self, queue_depth: Callable[[], float]) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "qa_http_requests",
            "HTTP requests",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "qa_http_request_duration_seconds",
            "Request latency",
            ["route", "method"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.scores = Counter("qa_scores", "Conversations scored", registry=self.registry)
        self.flagged = Counter(
            "qa_flagged", "Scored conversations flagged for review", registry=self.registry
        )
        queue = Gauge(
            "qa_queue_depth", "Batch conversations waiting to be scored", registry=self.registry
        )
        queue.set_function(queue_depth)

    def record_scores(self, scores: list[Score]) -> None:
        self.scores.inc(len(scores))
        self.flagged.inc(sum(s.needs_review for s in scores))

    def init_app(self, app: Flask) -> None:
        @app.before_request
        def _start() -> None:
            g.metrics_start = time.perf_counter()

        @app.after_request
        def _record(response: Response) -> Response:
            route = request.url_rule.rule if request.url_rule else "(unmatched)"
            self.requests.labels(route, request.method, str(response.status_code)).inc()
            started = g.get("metrics_start")
            if started is not None:
                self.latency.labels(route, request.method).observe(time.perf_counter() - started)
            return response

    def render(self) -> Response:
        return Response(generate_latest(self.registry), mimetype=CONTENT_TYPE_LATEST)
