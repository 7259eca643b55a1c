"""One source of truth for behaviour and documentation: each view is declared with
:func:`operation` (summary, roles, pydantic body / query / response models). The decorator
authenticates, rate-limits, authorises and validates with those declarations, and
:func:`build_spec` turns the same declarations into the OpenAPI 3 document."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from flask import Flask, g, request
from pydantic import BaseModel, ValidationError

from api.auth import Principal, Role, authenticate
from api.problems import Problem
from api.ratelimit import retry_after
from api.services import services
from qa_scoring.conversation import field_errors
from qa_scoring.errors import FieldError

PROBLEM = {"$ref": "#/components/schemas/Problem"}
PROBLEM_SCHEMA = {
    "type": "object",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string", "description": "zh or en, by Accept-Language"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "reason": {"type": "string"}},
            },
        },
    },
    "required": ["type", "title", "status"],
}


@dataclass(frozen=True)
class Operation:
    summary: str
    tag: str
    roles: tuple[Role, ...] = ()  # empty: public
    body: type[BaseModel] | None = None
    raw_body: dict[str, Any] = field(default_factory=dict)  # media type -> schema
    refs: tuple[type[BaseModel], ...] = ()  # models that raw_body schemas $ref
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200


def _api_key() -> str | None:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.headers.get("X-API-Key")


def authorise(roles: tuple[Role, ...]) -> Principal:
    svc = services()
    key = _api_key()
    if not key:
        raise Problem(401, "send the key as 'Authorization: Bearer <key>'")
    with svc.sessions() as session:
        who = authenticate(session, key)
    if who is None:
        raise Problem(401, "unknown or revoked API key")
    wait = svc.limiter.hit(who.key_prefix)
    if wait is not None:
        raise Problem(429, "rate limit exceeded", headers={"Retry-After": retry_after(wait)})
    if who.role not in roles:
        raise Problem(403, f"role {who.role} may not call this; allowed: {', '.join(roles)}")
    g.principal = who
    return who


def validate(model: type[BaseModel], data: Any, root: str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise Problem(422, f"invalid {root}", field_errors(exc, root=f"({root})")) from None


def json_body() -> Any:
    data = request.get_json(silent=True)
    if data is None:
        reason = FieldError("(body)", "expected a JSON document")
        raise Problem(422, "the body is not JSON", [reason])
    return data


def operation(summary: str, *, tag: str, **declared: Any) -> Callable[[Callable], Callable]:
    op = Operation(summary, tag, **declared)

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(**kwargs: Any) -> Any:
            if op.roles:
                kwargs["who"] = authorise(op.roles)
            if op.query is not None:
                kwargs["query"] = validate(op.query, request.args.to_dict(), "query")
            if op.body is not None:
                kwargs["body"] = validate(op.body, json_body(), "body")
            return view(**kwargs)

        wrapped.operation = op  # type: ignore[attr-defined]
        return wrapped

    return decorate


# ---- the document ------------------------------------------------------------------------------


def _schema(model: type[BaseModel], components: dict[str, Any]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(schema.pop("$defs", {}))
    components[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema()
    required = set(schema.get("required", []))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": prop}
        | ({"description": prop["description"]} if "description" in prop else {})
        for name, prop in schema.get("properties", {}).items()
    ]


def build_spec(app: Flask) -> dict[str, Any]:
    components: dict[str, Any] = {"Problem": PROBLEM_SCHEMA}
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        op: Operation | None = getattr(app.view_functions[rule.endpoint], "operation", None)
        if op is None:
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            doc: dict[str, Any] = {
                "summary": op.summary,
                "operationId": rule.endpoint.replace(".", "_"),
                "tags": [op.tag],
                "parameters": [
                    {"name": a, "in": "path", "required": True, "schema": {"type": "string"}}
                    for a in rule.arguments
                ]
                + (_query_parameters(op.query) if op.query else []),
            }
            for model in op.refs:
                _schema(model, components)
            content = dict(op.raw_body)
            if op.body is not None:
                content["application/json"] = {"schema": _schema(op.body, components)}
            if content:
                doc["requestBody"] = {"required": True, "content": content}
            ok: dict[str, Any] = {"description": "OK"}
            if op.response is not None:
                ok["content"] = {"application/json": {"schema": _schema(op.response, components)}}
            errors = {
                str(code): {
                    "description": reason,
                    "content": {"application/problem+json": {"schema": PROBLEM}},
                }
                for code, reason in (
                    (401, "no or invalid API key"),
                    (403, "role not allowed"),
                    (404, "unknown id, or another tenant's"),
                    (413, "body too large"),
                    (422, "invalid body or query; `errors` name the fields"),
                    (429, "rate limit exceeded"),
                )
                if op.roles or code in (404, 422)
            }
            doc["responses"] = {str(op.status): ok} | errors
            if op.roles:
                doc["security"] = [{"apiKey": []}]
                doc["description"] = "Roles: " + ", ".join(op.roles)
            paths.setdefault(path, {})[method.lower()] = doc
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "qa-scoring",
            "version": "1",
            "description": "QA scores with evidence for customer-service conversations (zh/en).",
        },
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer"}},
        },
    }
