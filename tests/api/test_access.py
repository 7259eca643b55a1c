"""Authentication, roles per endpoint, tenants, agents' own data."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from api.auth import ROLES
from tests.api.conftest import bearer, zh_chat

# (method, path, body kind, roles allowed). Bodies are valid, so an allowed role never sees 403.
ENDPOINTS = [
    ("POST", "/v1/score", "conversation", {"admin", "qa_lead", "integration"}),
    ("POST", "/v1/batches", "batch", {"admin", "qa_lead", "integration"}),
    ("GET", "/v1/batches/nope", None, {"admin", "qa_lead", "integration"}),
    ("GET", "/v1/batches/nope/results", None, {"admin", "qa_lead", "integration"}),
    ("GET", "/v1/conversations", None, {"admin", "qa_lead", "agent"}),
    ("GET", "/v1/conversations/zh-lamp-1", None, {"admin", "qa_lead", "agent"}),
    ("GET", "/v1/agents/a-07/evaluation?period=week", None, {"admin", "qa_lead", "agent"}),
    ("GET", "/v1/teams/after-sales/evaluation", None, {"admin", "qa_lead"}),
    ("GET", "/v1/rubrics", None, {"admin", "qa_lead"}),
    ("GET", "/v1/rubrics/ecommerce-zh", None, {"admin", "qa_lead"}),
    ("PUT", "/v1/rubrics/ecommerce-zh/active", "activate", {"admin", "qa_lead"}),
    ("GET", "/v1/webhooks", None, {"admin"}),
    ("POST", "/v1/webhooks", "webhook", {"admin"}),
]


def _request(client: FlaskClient, method: str, path: str, kind: str | None, key: str):
    headers = bearer(key)
    if kind == "conversation":
        return client.post(path, json=zh_chat(), headers=headers)
    if kind == "batch":
        body = json.dumps(zh_chat("zh-batch-1"), ensure_ascii=False).encode() + b"\n"
        return client.post(path, data=body, headers=headers, content_type="application/x-ndjson")
    if kind == "activate":
        return client.put(path, json={"version": "9.9"}, headers=headers)
    if kind == "webhook":
        body = {"url": "http://127.0.0.1:9/hook", "secret": "s" * 32}
        return client.post(path, json=body, headers=headers)
    return client.open(path, method=method, headers=headers)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "path", "kind", "allowed"), ENDPOINTS)
def test_role_matrix(
    client: FlaskClient,
    key: Callable[..., str],
    role: str,
    method: str,
    path: str,
    kind: str | None,
    allowed: set[str],
) -> None:
    agent_id = "a-07" if role == "agent" else None
    response = _request(client, method, path, kind, key(role, agent_id=agent_id))
    if role in allowed:
        assert response.status_code != 403, response.json
        assert response.status_code < 500
    else:
        assert response.status_code == 403
        assert response.mimetype == "application/problem+json"
        assert role in response.json["detail"]


def test_missing_wrong_and_revoked_keys(client: FlaskClient, app, key) -> None:
    assert client.get("/v1/conversations").status_code == 401
    wrong = bearer("qas_000000000000_not-a-key")
    assert client.get("/v1/conversations", headers=wrong).status_code == 401
    good = key("qa_lead")
    tampered = good[:-2] + ("AA" if not good.endswith("AA") else "BB")
    assert client.get("/v1/conversations", headers=bearer(tampered)).status_code == 401
    assert client.get("/v1/conversations", headers={"X-API-Key": good}).status_code == 200
    from api.auth import revoke_key

    with app.extensions["qa_scoring"].sessions.begin() as session:
        revoke_key(session, good.split("_")[1])
    response = client.get("/v1/conversations", headers=bearer(good))
    assert response.status_code == 401
    assert response.json["title"] == "Missing or invalid API key"


def test_only_a_salted_hash_is_stored(app, key) -> None:
    from sqlalchemy import select

    from qa_scoring.storage.models import ApiKey

    secret = key("admin")
    with app.extensions["qa_scoring"].sessions() as session:
        row = session.scalars(select(ApiKey)).one()
    assert secret not in (row.key_hash, row.salt, row.prefix) and len(row.key_hash) == 64


def test_other_tenants_data_is_404(client: FlaskClient, key: Callable[..., str]) -> None:
    mine, theirs = key("admin", tenant="shop-a"), key("admin", tenant="shop-b")
    assert client.post("/v1/score", json=zh_chat(), headers=bearer(mine)).status_code == 200
    batch = client.post("/v1/batches", json=[zh_chat("zh-b1")], headers=bearer(mine)).json
    for path in (
        "/v1/conversations/zh-lamp-1",
        f"/v1/batches/{batch['id']}",
        f"/v1/batches/{batch['id']}/results",
    ):
        assert client.get(path, headers=bearer(mine)).status_code == 200, path
        other = client.get(path, headers=bearer(theirs))
        assert other.status_code == 404, path
        assert other.mimetype == "application/problem+json"
    listed = client.get("/v1/conversations", headers=bearer(theirs)).json
    assert listed["items"] == []
    evaluation = client.get("/v1/agents/a-07/evaluation", headers=bearer(theirs)).json
    assert evaluation["evaluations"] == []


def test_agent_sees_only_own_conversations_and_evaluation(
    client: FlaskClient, key: Callable[..., str]
) -> None:
    admin = key("admin")
    for conv_id, agent in (("zh-mine", "a-07"), ("zh-theirs", "a-08")):
        response = client.post("/v1/score", json=zh_chat(conv_id, agent), headers=bearer(admin))
        assert response.status_code == 200
    agent = bearer(key("agent", agent_id="a-07"))
    assert client.get("/v1/conversations/zh-mine", headers=agent).status_code == 200
    assert client.get("/v1/conversations/zh-theirs", headers=agent).status_code == 404
    listed = client.get("/v1/conversations", headers=agent).json["items"]
    assert {item["conversation_id"] for item in listed} == {"zh-mine"}
    assert client.get("/v1/conversations?agent_id=a-08", headers=agent).status_code == 403
    assert client.get("/v1/agents/a-07/evaluation", headers=agent).status_code == 200
    assert client.get("/v1/agents/a-08/evaluation", headers=agent).status_code == 403


def test_keys_cli_creates_lists_and_revokes(tmp_path, monkeypatch) -> None:
    from click.testing import CliRunner

    from qa_scoring.cli import main

    monkeypatch.setenv("QA_SCORING_DATABASE_URL", f"sqlite:///{tmp_path / 'keys.sqlite3'}")
    runner = CliRunner()
    created = runner.invoke(
        main, ["keys", "create", "--tenant", "t1", "--role", "agent", "--agent-id", "a-01"]
    )
    assert created.exit_code == 0, created.output
    key = created.stdout.splitlines()[0]
    assert key.startswith("qas_")
    listed = runner.invoke(main, ["keys", "list", "--tenant", "t1"])
    prefix = key.split("_")[1]
    assert prefix in listed.output and key not in listed.output
    assert runner.invoke(main, ["keys", "revoke", prefix]).exit_code == 0
    bad = runner.invoke(main, ["keys", "create", "--tenant", "t1", "--role", "agent"])
    assert bad.exit_code != 0 and "agent_id" in bad.output


def test_serve_runs_gunicorn_with_the_wsgi_app(tmp_path, unused_port: int) -> None:
    """`qa-scoring serve` (the image's command) answers on its port."""
    import os
    import subprocess
    import sys
    import time
    import urllib.request
    from pathlib import Path

    env = os.environ | {"QA_SCORING_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite3'}"}
    env.pop("QA_SCORING_BROKER_URL", None)
    exe = str(Path(sys.executable).with_name("qa-scoring"))
    server = subprocess.Popen(
        [exe, "serve", "--port", str(unused_port), "--workers", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{unused_port}/readyz") as r:
                    assert json.loads(r.read())["status"] == "ready"
                    break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None
                time.sleep(0.3)
    finally:
        server.terminate()
        server.wait(timeout=30)
