"""Webhook registration (admin only)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from api import schemas
from api.auth import Principal
from api.openapi import operation
from api.services import services
from qa_scoring import webhooks
from qa_scoring.webhooks import WebhookInfo

bp = Blueprint("webhooks", __name__, url_prefix="/v1")


def _out(w: WebhookInfo) -> dict[str, Any]:
    return schemas.WebhookOut(
        id=w.id, url=w.url, events=w.events, created_at=w.created_at.isoformat()
    ).model_dump()


@bp.post("/webhooks")
@operation(
    "Register a URL for signed events (batch.done, conversation.flagged)",
    tag="webhooks",
    roles=("admin",),
    body=schemas.WebhookIn,
    response=schemas.WebhookOut,
    status=201,
)
def register(who: Principal, body: schemas.WebhookIn) -> Any:
    with services().sessions.begin() as session:
        hook = webhooks.register(session, who.tenant, body.url, body.secret, list(body.events))
    return _out(hook), 201


@bp.get("/webhooks")
@operation(
    "This tenant's webhooks (secrets are never returned)",
    tag="webhooks",
    roles=("admin",),
    response=schemas.WebhookList,
)
def list_all(who: Principal) -> Any:
    with services().sessions() as session:
        return {"items": [_out(w) for w in webhooks.list_webhooks(session, who.tenant)]}


@bp.delete("/webhooks/<int:webhook_id>")
@operation("Stop sending events to a webhook", tag="webhooks", roles=("admin",), status=204)
def remove(who: Principal, webhook_id: int) -> Any:
    with services().sessions.begin() as session:
        webhooks.remove(session, who.tenant, webhook_id)
    return "", 204
