"""Problem details: field-named 422s for realistic bad zh conversations, 413, 415, 429, zh/en
titles; the OpenAPI document, probes and metrics."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from tests.api.conftest import bearer, zh_chat


def _fields(response) -> set[str]:
    assert response.mimetype == "application/problem+json"
    body = response.json
    assert {"type", "title", "status"} <= set(body)
    return {e["field"] for e in body["errors"]}


def test_bad_turn_role_is_422_naming_the_field(client: FlaskClient, key: Callable) -> None:
    conv = zh_chat()
    conv["turns"][1]["role"] = "客服"  # helpdesk exports sometimes carry the Chinese label
    response = client.post("/v1/score", json=conv, headers=bearer(key("integration")))
    assert response.status_code == 422
    assert _fields(response) == {"turns[1].role"}
    assert response.json["title"] == "Invalid request body"


def test_bad_and_out_of_order_timestamps(client: FlaskClient, key: Callable) -> None:
    headers = bearer(key("integration"), **{"Accept-Language": "zh-CN,zh;q=0.9"})
    conv = zh_chat()
    conv["turns"][2]["ts"] = "昨天下午"
    response = client.post("/v1/score", json=conv, headers=headers)
    assert response.status_code == 422
    assert _fields(response) == {"turns[2].ts"}
    assert response.json["title"] == "请求内容无效"
    conv = zh_chat()
    conv["turns"][3]["ts"] = "2026-11-20T09:00:00+08:00"  # before the turn it answers
    response = client.post("/v1/score", json=conv, headers=headers)
    assert response.status_code == 422 and "turns[3].ts" in response.json["detail"]


def test_missing_fields_and_non_json(client: FlaskClient, key: Callable) -> None:
    headers = bearer(key("integration"))
    conv = zh_chat()
    del conv["agent_id"]
    conv["turns"][0]["text"] = "   "
    response = client.post("/v1/score", json=conv, headers=headers)
    assert _fields(response) == {"agent_id", "turns[0].text"}
    response = client.post(
        "/v1/score", data="不是 JSON", headers=headers, content_type="application/json"
    )
    assert response.status_code == 422 and _fields(response) == {"(body)"}


def test_batch_lines_with_errors_are_recorded_not_fatal(
    client: FlaskClient, key: Callable, app: Flask
) -> None:
    headers = bearer(key("integration"))
    bad_role = zh_chat("zh-bad-role")
    bad_role["turns"][0]["role"] = "买家"
    import json

    body = "\n".join(
        [
            json.dumps(zh_chat("zh-good-1"), ensure_ascii=False),
            json.dumps(bad_role, ensure_ascii=False),
            "{not json",
            json.dumps(zh_chat("zh-good-1"), ensure_ascii=False),  # duplicate id in the batch
            json.dumps(zh_chat("zh-good-2"), ensure_ascii=False),
        ]
    ).encode()
    response = client.post(
        "/v1/batches", data=body, headers=headers, content_type="application/x-ndjson"
    )
    assert response.status_code == 202
    accepted = response.json
    assert (accepted["total"], accepted["accepted"], accepted["invalid"]) == (5, 2, 3)
    app.extensions["qa_scoring"].dispatcher.wait()
    status = client.get(accepted["status_url"], headers=headers).json
    assert (status["state"], status["scored"], status["failed"]) == ("done", 2, 3)
    errors = {e["location"]: e for e in status["errors"] if e["location"]}
    assert errors["line 2"]["conversation_id"] == "zh-bad-role"
    assert errors["line 2"]["errors"][0]["field"] == "turns[0].role"
    assert errors["line 3"]["errors"][0]["field"] == "(json)"
    duplicate = next(e for e in status["errors"] if e["index"] == 3)
    assert duplicate["errors"][0]["field"] == "id"


def test_batch_content_type_and_empty_body(client: FlaskClient, key: Callable) -> None:
    headers = bearer(key("integration"))
    assert (
        client.post("/v1/batches", data="x", headers=headers, content_type="text/csv").status_code
        == 415
    )
    response = client.post(
        "/v1/batches", data=b"", headers=headers, content_type="application/x-ndjson"
    )
    assert response.status_code == 422 and _fields(response) == {"(body)"}


def test_oversize_body_is_413(make_app: Callable[..., Flask], key: Callable) -> None:
    app = make_app(MAX_CONTENT_LENGTH=2048)
    client = app.test_client()
    from api.auth import create_key

    with app.extensions["qa_scoring"].sessions.begin() as session:
        api_key = create_key(session, "shop-a", "integration")[0]
    big = zh_chat()
    big["turns"] = big["turns"] * 20
    response = client.post("/v1/score", json=big, headers=bearer(api_key))
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"
    assert "2048" in response.json["detail"]


def test_rate_limit_per_key_is_429(make_app: Callable[..., Flask]) -> None:
    app = make_app(RATE_LIMIT="3/minute")
    client = app.test_client()
    from api.auth import create_key

    with app.extensions["qa_scoring"].sessions.begin() as session:
        first = create_key(session, "shop-a", "qa_lead")[0]
        second = create_key(session, "shop-a", "qa_lead")[0]
    codes = [client.get("/v1/conversations", headers=bearer(first)).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    limited = client.get("/v1/conversations", headers=bearer(first, **{"Accept-Language": "zh"}))
    assert limited.json["title"] == "请求过于频繁" and int(limited.headers["Retry-After"]) >= 1
    assert client.get("/v1/conversations", headers=bearer(second)).status_code == 200


def test_invalid_query_is_422(client: FlaskClient, key: Callable) -> None:
    headers = bearer(key("qa_lead"))
    response = client.get("/v1/conversations?since=2026-11-01T00:00:00&per_page=0", headers=headers)
    assert response.status_code == 422 and _fields(response) == {"since", "per_page"}
    response = client.get("/v1/agents/a-01/evaluation?period=year", headers=headers)
    assert _fields(response) == {"period"}


def test_unknown_route_and_method_are_problems(client: FlaskClient) -> None:
    assert client.get("/v1/nothing-here").mimetype == "application/problem+json"
    assert client.delete("/v1/score").status_code == 405


def test_openapi_document_and_docs_page(client: FlaskClient) -> None:
    spec = client.get("/v1/openapi.json").json
    assert spec["openapi"].startswith("3.")
    score = spec["paths"]["/v1/score"]["post"]
    assert "Conversation" in spec["components"]["schemas"]
    assert {"401", "403", "422", "429"} <= set(score["responses"])
    assert "application/x-ndjson" in spec["paths"]["/v1/batches"]["post"]["requestBody"]["content"]
    params = spec["paths"]["/v1/conversations"]["get"]["parameters"]
    assert {"agent_id", "since", "needs_review", "page"} <= {p["name"] for p in params}
    page = client.get("/v1/docs")
    assert page.status_code == 200 and b"/v1/batches/{batch_id}/results" in page.data
    assert b"<script" not in page.data  # nothing fetched from a CDN at run time


def test_probes_and_metrics(client: FlaskClient, key: Callable) -> None:
    assert client.get("/healthz").json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json["checks"] == {"database": "ok"}
    client.post("/v1/score", json=zh_chat(), headers=bearer(key("integration")))
    text = client.get("/metrics").data.decode()
    assert 'qa_http_requests_total{method="POST",route="/v1/score",status="200"} 1.0' in text
    assert "qa_http_request_duration_seconds_bucket" in text
    assert "qa_scores_total 1.0" in text
    assert "qa_flagged_total" in text and "qa_queue_depth 0.0" in text


def test_readyz_reports_unreachable_broker(make_app: Callable[..., Flask]) -> None:
    app = make_app(BROKER_URL="redis://127.0.0.1:1/0")  # nothing listens on port 1
    ready = app.test_client().get("/readyz")
    assert ready.status_code == 503
    assert ready.json["checks"]["database"] == "ok"
    assert ready.json["checks"]["broker"].startswith("unreachable")


def test_huge_page_number_is_a_422_not_a_500(client, key):
    from tests.api.conftest import bearer

    response = client.get(
        "/v1/conversations?page=100000000000000000000", headers=bearer(key("admin"))
    )
    assert response.status_code == 422
    assert any(e["field"] == "page" for e in response.get_json()["errors"])
