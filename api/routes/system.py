"""Probes, metrics and the API's own documentation (no external assets)."""

from __future__ import annotations

from html import escape
from typing import Any

from flask import Blueprint, Response, current_app

from api.openapi import build_spec
from api.services import services

bp = Blueprint("system", __name__)


@bp.get("/healthz")
def healthz() -> Any:
    return {"status": "ok"}


@bp.get("/readyz")
def readyz() -> Any:
    checks = services().check_ready()
    ready = all(v == "ok" for v in checks.values())
    return {"status": "ready" if ready else "not ready", "checks": checks}, 200 if ready else 503


@bp.get("/metrics")
def metrics() -> Response:
    return services().metrics.render()


@bp.get("/v1/openapi.json")
def openapi() -> Any:
    return build_spec(current_app)


@bp.get("/v1/docs")
def docs() -> Response:
    spec = build_spec(current_app)
    rows = "".join(
        f"<tr><td><code>{method.upper()}</code></td><td><code>{escape(path)}</code></td>"
        f"<td>{escape(op['summary'])}</td><td>{escape(op.get('description', 'public'))}</td></tr>"
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
    )
    html = (
        "<!doctype html><meta charset=utf-8><title>qa-scoring API</title>"
        "<style>body{font:14px sans-serif;margin:2em}td{padding:4px 12px;"
        "border-bottom:1px solid #ddd}</style>"
        "<h1>qa-scoring API v1</h1><p>Machine-readable: <a href=openapi.json>openapi.json</a>. "
        "Authenticate with <code>Authorization: Bearer &lt;key&gt;</code>.</p>"
        f"<table><tr><th>Method</th><th>Path</th><th>What</th><th>Access</th></tr>{rows}</table>"
    )
    return Response(html, mimetype="text/html")
