"""Webhooks: signed JSON events (batch done, conversation flagged) POSTed to a tenant's URLs.

Signature: ``X-QA-Signature: sha256=<hex>``, the HMAC-SHA256 with the webhook's secret of
``"<X-QA-Timestamp>." + body``. Receivers check it with :func:`verify`, which also refuses old
timestamps so a captured request cannot be replayed later. Deliveries are stored first and then
attempted (Celery task with retries, or a thread in embedded mode), so an event survives a
receiver that is down.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from qa_scoring.errors import NotFound
from qa_scoring.storage.models import Webhook, WebhookDelivery, utcnow
from qa_scoring.storage.repository import ensure_tenant

EVENTS = ("batch.done", "conversation.flagged")
MAX_ATTEMPTS = 6
SIGNATURE_HEADER = "X-QA-Signature"
TIMESTAMP_HEADER = "X-QA-Timestamp"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(
    secret: str,
    timestamp: str,
    body: bytes,
    signature: str,
    tolerance_s: float = 300,
    now: float | None = None,
) -> bool:
    """For receivers: True when ``signature`` matches and ``timestamp`` is recent."""
    try:
        age = abs((time.time() if now is None else now) - int(timestamp))
    except ValueError:
        return False
    return age <= tolerance_s and hmac.compare_digest(sign(secret, timestamp, body), signature)


@dataclass(frozen=True)
class WebhookInfo:
    id: int
    url: str
    events: list[str]
    created_at: datetime


def _info(w: Webhook) -> WebhookInfo:
    return WebhookInfo(w.id, w.url, list(w.events), w.created_at)


def register(
    session: Session, tenant: str, url: str, secret: str, events: list[str]
) -> WebhookInfo:
    ensure_tenant(session, tenant)
    hook = Webhook(tenant_id=tenant, url=url, secret=secret, events=events, active=True)
    session.add(hook)
    session.flush()
    return _info(hook)


def list_webhooks(session: Session, tenant: str) -> list[WebhookInfo]:
    stmt = select(Webhook).where(Webhook.tenant_id == tenant, Webhook.active).order_by(Webhook.id)
    return [_info(w) for w in session.scalars(stmt)]


def remove(session: Session, tenant: str, webhook_id: int) -> None:
    hook = session.scalar(
        select(Webhook).where(Webhook.tenant_id == tenant, Webhook.id == webhook_id, Webhook.active)
    )
    if hook is None:
        raise NotFound(f"webhook {webhook_id}")
    hook.active = False  # kept, so its delivery history stays readable


def emit(
    session: Session, tenant: str, event_type: str, event_id: str, data: dict[str, Any]
) -> list[int]:
    """Store one delivery per subscribed webhook; returns their ids, to attempt after commit.

    ``event_id`` is stable for the same fact (e.g. a batch id), so a receiver can drop the
    duplicates an at-least-once redelivery may cause."""
    hooks = session.scalars(
        select(Webhook).where(Webhook.tenant_id == tenant, Webhook.active)
    ).all()
    payload = {
        "id": event_id,
        "type": event_type,
        "tenant": tenant,
        "created_at": utcnow().isoformat(),
        "data": data,
    }
    deliveries = [
        WebhookDelivery(
            tenant_id=tenant,
            webhook_id=h.id,
            event_id=event_id,
            event_type=event_type,
            payload=payload,
            state="pending",
            attempts=0,
        )
        for h in hooks
        if event_type in h.events
    ]
    session.add_all(deliveries)
    session.flush()
    return [d.id for d in deliveries]


def attempt(
    sessions: sessionmaker[Session], delivery_id: int, final: bool, timeout_s: float = 10
) -> bool:
    """POST one delivery once. True when delivered (now or before); a failure is recorded and,
    on the ``final`` attempt, the delivery is marked failed."""
    with sessions.begin() as session:
        row = session.execute(
            select(WebhookDelivery, Webhook.url, Webhook.secret)
            .join(Webhook, WebhookDelivery.webhook_id == Webhook.id)
            .where(WebhookDelivery.id == delivery_id)
        ).first()
    if row is None:
        return True  # the webhook was deleted with its deliveries: nothing left to do
    delivery, url, secret = row
    if delivery.state == "delivered":
        return True
    body = json.dumps(delivery.payload, ensure_ascii=False, sort_keys=True).encode()
    timestamp = str(int(time.time()))
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "qa-scoring-webhooks",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(secret, timestamp, body),
            "X-QA-Event": delivery.event_type,
        },
    )
    error = None
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            response.read()
    except urllib.error.HTTPError as exc:
        error = f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        error = str(getattr(exc, "reason", exc))
    with sessions.begin() as session:
        stored = session.get(WebhookDelivery, delivery_id)
        if stored is not None:
            stored.attempts += 1
            stored.last_error = error
            if error is None:
                stored.state, stored.delivered_at = "delivered", utcnow()
            elif final:
                stored.state = "failed"
    return error is None


def deliver_with_retries(
    sessions: sessionmaker[Session], delivery_id: int, base_delay_s: float = 1.0
) -> bool:
    """Embedded mode's retry loop: exponential backoff, the same schedule as the Celery task."""
    for n in range(MAX_ATTEMPTS):
        if attempt(sessions, delivery_id, final=n == MAX_ATTEMPTS - 1):
            return True
        if n < MAX_ATTEMPTS - 1:
            time.sleep(base_delay_s * 2**n)
    return False
