"""Service fixtures: an app per test on SQLite (embedded mode), keys per role and tenant, and
realistic zh conversations. The lexical fallback classifier keeps these tests fast; the model
heads are tested elsewhere."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from api import create_app
from api.auth import create_key

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "conversations.jsonl"


@pytest.fixture(autouse=True)
def lexical_classifier(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only for the service tests: the rest of the suite must see the shipped heads."""
    monkeypatch.setenv("QA_SCORING_CLASSIFIER", "lexical")


def example_conversations() -> list[dict[str, Any]]:
    lines = EXAMPLES.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def conversations(n: int, prefix: str = "c") -> list[dict[str, Any]]:
    """``n`` distinct conversations (zh and en), cycling through the shipped examples."""
    base = example_conversations()
    out = []
    for i in range(n):
        conv = copy.deepcopy(base[i % len(base)])
        conv["id"] = f"{prefix}-{i:05d}"
        out.append(conv)
    return out


def zh_chat(conv_id: str = "zh-lamp-1", agent_id: str = "a-07") -> dict[str, Any]:
    return {
        "id": conv_id,
        "channel": "chat",
        "language": "zh",
        "agent_id": agent_id,
        "team": "after-sales",
        "metadata": {"shop": "home-goods", "order_id": "o-88"},
        "turns": [
            {
                "role": "customer",
                "text": "我买的台灯到了是坏的，灯罩都碎了",
                "ts": "2026-11-20T10:00:00+08:00",
            },
            {
                "role": "agent",
                "text": "亲，非常抱歉给您带来不便，麻烦您拍一下破损的照片",
                "ts": "2026-11-20T10:00:25+08:00",
            },
            {"role": "customer", "text": "[图片]", "ts": "2026-11-20T10:01:10+08:00"},
            {
                "role": "agent",
                "text": "已为您申请补发一台新的，48小时内发出，您看可以吗？",
                "ts": "2026-11-20T10:01:40+08:00",
            },
            {"role": "customer", "text": "好的，谢谢", "ts": "2026-11-20T10:02:00+08:00"},
            {
                "role": "agent",
                "text": "不客气，还有其他可以帮您的吗？祝您生活愉快",
                "ts": "2026-11-20T10:02:15+08:00",
            },
        ],
        "outcome": {"csat": 4, "resolved": True, "converted": None},
    }


def bearer(key: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", **headers}


@pytest.fixture
def make_app(tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    apps: list[Flask] = []

    def make(**config: Any) -> Flask:
        config.setdefault("DATABASE_URL", f"sqlite:///{tmp_path / f'api{len(apps)}.sqlite3'}")
        config.setdefault("BROKER_URL", None)
        config.setdefault("WEBHOOK_BASE_DELAY", 0.05)
        app = create_app(config)
        app.testing = True
        apps.append(app)
        return app

    yield make
    for app in apps:
        dispatcher = app.extensions["qa_scoring"].dispatcher
        if hasattr(dispatcher, "wait"):
            dispatcher.wait()


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def key(app: Flask) -> Callable[..., str]:
    """``key("qa_lead")``, ``key("agent", agent_id="a-07", tenant="t2")``: a fresh API key."""

    def make(role: str, agent_id: str | None = None, tenant: str = "shop-a") -> str:
        with app.extensions["qa_scoring"].sessions.begin() as session:
            return create_key(session, tenant, role, agent_id)[0]

    return make


@pytest.fixture
def unused_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
