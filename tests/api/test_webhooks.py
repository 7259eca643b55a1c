"""Signed webhook events: sign/verify, and delivery to a local receiver that fails once."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from flask import Flask

from qa_scoring import webhooks
from tests.api.conftest import bearer, zh_chat

SECRET = "whsec-0123456789abcdef"


def test_sign_and_verify() -> None:
    body = json.dumps({"type": "batch.done", "data": {"batch_id": "b1"}}).encode()
    now = time.time()
    ts = str(int(now))
    signature = webhooks.sign(SECRET, ts, body)
    assert signature.startswith("sha256=") and len(signature) == 7 + 64
    assert webhooks.verify(SECRET, ts, body, signature, now=now)
    assert not webhooks.verify(SECRET, ts, body.replace(b"b1", b"b2"), signature, now=now)
    assert not webhooks.verify("another-secret-value", ts, body, signature, now=now)
    assert not webhooks.verify(SECRET, str(int(now) + 1), body, signature, now=now)
    assert not webhooks.verify(SECRET, ts, body, signature, now=now + 3600)  # replayed later
    assert not webhooks.verify(SECRET, "yesterday", body, signature, now=now)


class Receiver:
    """A receiver on 127.0.0.1 that answers 500 to the first request of each event."""

    def __init__(self) -> None:
        self.received: list[tuple[Message, bytes]] = []
        self.failed_once: set[str] = set()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((self.headers, body))  # case-insensitive
                event = json.loads(body)["id"]
                status = 200 if event in receiver.failed_once else 500
                receiver.failed_once.add(event)
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/qa"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self, event_type: str) -> list[tuple[Message, bytes]]:
        return [(h, b) for h, b in self.received if json.loads(b)["type"] == event_type]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()


def _wait_for(condition: Callable[[], bool], timeout_s: float = 15) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_flagged_and_batch_done_are_delivered_signed_with_a_retry(
    app: Flask, key: Callable[..., str], receiver: Receiver
) -> None:
    client = app.test_client()
    admin = bearer(key("admin"))
    hook = client.post("/v1/webhooks", json={"url": receiver.url, "secret": SECRET}, headers=admin)
    assert hook.status_code == 201 and "secret" not in hook.json
    unhappy = zh_chat("zh-unhappy")
    unhappy["outcome"] = {"csat": 1, "resolved": False}  # the customer was not satisfied
    scored = client.post("/v1/score", json=unhappy, headers=admin).json
    assert scored["needs_review"]
    batch = client.post("/v1/batches", json=[zh_chat("zh-b-1")], headers=admin).json

    _wait_for(lambda: len(receiver.events("conversation.flagged")) >= 2)
    _wait_for(lambda: len(receiver.events("batch.done")) >= 2)
    for headers, body in receiver.received:
        assert webhooks.verify(SECRET, headers["X-QA-Timestamp"], body, headers["X-QA-Signature"])
    flagged = json.loads(receiver.events("conversation.flagged")[-1][1])
    assert flagged["data"]["conversation_id"] == "zh-unhappy"
    assert flagged["data"]["review_reasons"] == scored["review_reasons"]
    done = json.loads(receiver.events("batch.done")[-1][1])
    assert done["data"]["batch_id"] == batch["id"] and done["data"]["scored"] == 1

    from sqlalchemy import select

    from qa_scoring.storage.models import WebhookDelivery

    def delivered() -> bool:
        with app.extensions["qa_scoring"].sessions() as session:
            rows = session.scalars(select(WebhookDelivery)).all()
        return bool(rows) and all(r.state == "delivered" and r.attempts == 2 for r in rows)

    _wait_for(delivered)


def test_webhook_registration_is_validated_and_tenant_scoped(
    app: Flask, key: Callable[..., str]
) -> None:
    client = app.test_client()
    admin = bearer(key("admin"))
    bad = client.post(
        "/v1/webhooks",
        json={"url": "ftp://x", "secret": "short", "events": ["nope"]},
        headers=admin,
    )
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json["errors"]} == {"url", "secret", "events[0]"}
    made = client.post(
        "/v1/webhooks", json={"url": "http://127.0.0.1:9/x", "secret": SECRET}, headers=admin
    ).json
    other = bearer(key("admin", tenant="shop-b"))
    assert client.get("/v1/webhooks", headers=other).json["items"] == []
    assert client.delete(f"/v1/webhooks/{made['id']}", headers=other).status_code == 404
    assert client.delete(f"/v1/webhooks/{made['id']}", headers=admin).status_code == 204
    assert client.get("/v1/webhooks", headers=admin).json["items"] == []
