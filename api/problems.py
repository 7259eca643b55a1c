"""Errors as RFC 9457 problem details (``application/problem+json``), titles in zh or en by
``Accept-Language``. Every error leaves the API through here: no tracebacks for bad input."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from flask import Flask, Response, current_app, json, request
from werkzeug.exceptions import HTTPException

from qa_scoring.errors import FieldError, InputError, NotFound

log = logging.getLogger(__name__)

TITLES: dict[int, dict[str, str]] = {
    400: {"en": "Bad request", "zh": "请求错误"},
    401: {"en": "Missing or invalid API key", "zh": "缺少或无效的 API 密钥"},
    403: {"en": "Not allowed for this role", "zh": "当前角色无权访问"},
    404: {"en": "Not found", "zh": "未找到"},
    405: {"en": "Method not allowed", "zh": "不支持该请求方法"},
    413: {"en": "Request body too large", "zh": "请求内容过大"},
    415: {"en": "Unsupported content type", "zh": "不支持的内容类型"},
    422: {"en": "Invalid request body", "zh": "请求内容无效"},
    429: {"en": "Too many requests", "zh": "请求过于频繁"},
    500: {"en": "Internal error", "zh": "服务器内部错误"},
    503: {"en": "Service unavailable", "zh": "服务暂不可用"},
}


class Problem(Exception):
    def __init__(
        self,
        status: int,
        detail: str | None = None,
        errors: Sequence[FieldError] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status, self.detail, self.errors, self.headers = status, detail, errors, headers


def language() -> str:
    return request.accept_languages.best_match(["en", "zh"], default="en") or "en"


def problem_response(
    status: int,
    detail: str | None = None,
    errors: Sequence[FieldError] = (),
    headers: dict[str, str] | None = None,
) -> Response:
    titles = TITLES.get(status, TITLES[500 if status >= 500 else 400])
    body: dict[str, object] = {
        "type": f"https://qa-scoring.dev/problems/{status}",
        "title": titles[language()],
        "status": status,
    }
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = [{"field": e.field, "reason": e.reason} for e in errors]
    response = current_app.response_class(
        json.dumps(body), status=status, mimetype="application/problem+json"
    )
    response.headers.extend(headers or {})
    return response


def register(app: Flask) -> None:
    @app.errorhandler(Problem)
    def _problem(exc: Problem) -> Response:
        return problem_response(exc.status, exc.detail, exc.errors, exc.headers)

    @app.errorhandler(InputError)
    def _input(exc: InputError) -> Response:
        return problem_response(422, exc.describe(), exc.errors)

    @app.errorhandler(NotFound)
    def _not_found(exc: NotFound) -> Response:
        return problem_response(404, f"{exc} not found")

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        detail = exc.description if exc.code != 404 else None
        if exc.code == 413:
            detail = f"the body is over {current_app.config['MAX_CONTENT_LENGTH']} bytes"
        return problem_response(exc.code or 500, detail)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return problem_response(500)
