"""Rubric versions per tenant: upload (YAML or JSON), field-named errors, activation, and
scoring with the tenant's active version."""

from __future__ import annotations

import json
from collections.abc import Callable

import yaml
from flask.testing import FlaskClient

from qa_scoring.config import get_settings
from tests.api.conftest import bearer, zh_chat


def _shipped_zh() -> dict:
    return yaml.safe_load((get_settings().rubrics_dir / "ecommerce-zh.yaml").read_text("utf-8"))


def test_upload_activate_and_score_with_the_tenant_version(
    client: FlaskClient, key: Callable[..., str]
) -> None:
    lead = bearer(key("qa_lead"))
    rubric = _shipped_zh()
    rubric["version"] = "7.1"
    rubric["pass_mark"] = 99
    uploaded = client.post(
        "/v1/rubrics",
        data=yaml.safe_dump(rubric, allow_unicode=True),
        headers=lead,
        content_type="application/yaml",
    )
    assert uploaded.status_code == 201, uploaded.json
    assert (uploaded.json["version"], uploaded.json["active"]) == ("7.1", False)
    before = client.post("/v1/score", json=zh_chat("zh-1"), headers=lead).json
    assert before["rubric"]["version"] != "7.1"

    active = client.put("/v1/rubrics/ecommerce-zh/active", json={"version": "7.1"}, headers=lead)
    assert active.status_code == 200
    states = {(r["source"], r["version"]): r["active"] for r in active.json["items"]}
    assert states[("tenant", "7.1")] and not states[("shipped", before["rubric"]["version"])]
    after = client.post("/v1/score", json=zh_chat("zh-2"), headers=lead).json
    assert after["rubric"] == {"id": "ecommerce-zh", "version": "7.1"}

    other = bearer(key("qa_lead", tenant="shop-b"))
    assert (
        client.post("/v1/score", json=zh_chat("zh-3"), headers=other).json["rubric"]["version"]
        == before["rubric"]["version"]
    )
    text = client.get("/v1/rubrics/ecommerce-zh/versions/7.1", headers=lead).json["text"]
    assert yaml.safe_load(text)["pass_mark"] == 99
    assert client.get("/v1/rubrics/ecommerce-zh/versions/7.1", headers=other).status_code == 404


def test_invalid_rubric_is_422_with_field_paths(client: FlaskClient, key: Callable) -> None:
    lead = bearer(key("qa_lead"))
    rubric = _shipped_zh()
    rubric["version"] = "8.0"
    rubric["pass_mark"] = 140
    rubric["criteria"][0]["check"] = {"type": "no-such-check"}
    response = client.post(
        "/v1/rubrics",
        data=json.dumps(rubric, ensure_ascii=False),
        headers=lead,
        content_type="application/json",
    )
    assert response.status_code == 422
    fields = {e["field"] for e in response.json["errors"]}
    assert "pass_mark" in fields
    not_yaml = client.post(
        "/v1/rubrics", data="a: [1", headers=lead, content_type="application/yaml"
    )
    assert not_yaml.status_code == 422 and not_yaml.json["errors"][0]["field"] == "(file)"
    missing = client.put("/v1/rubrics/ecommerce-zh/active", json={"version": "9.9"}, headers=lead)
    assert missing.status_code == 404
    bad_version = client.put(
        "/v1/rubrics/ecommerce-zh/active", json={"version": "latest"}, headers=lead
    )
    assert bad_version.status_code == 422 and bad_version.json["errors"][0]["field"] == "version"
