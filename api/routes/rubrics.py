"""Rubrics: the shipped defaults and each tenant's uploaded versions; one active per rubric."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request
from sqlalchemy.orm import Session

from api import schemas
from api.auth import Principal
from api.openapi import operation
from api.problems import Problem
from api.services import services
from qa_scoring.errors import NotFound, RubricError
from qa_scoring.scorers import list_rubric_versions
from qa_scoring.storage import repository

bp = Blueprint("rubrics", __name__, url_prefix="/v1")
LEADS = ("admin", "qa_lead")
RUBRIC_TYPES = (
    "application/yaml",
    "application/x-yaml",
    "text/yaml",
    "application/json",
    "text/plain",
)


def _all(session: Session, tenant: str, rubric_id: str | None = None) -> list[dict[str, Any]]:
    stored = list_rubric_versions(session, tenant, rubric_id)
    overridden = {v.rubric_id for v in stored if v.active}
    shipped = [
        schemas.RubricInfo(
            rubric_id=r.id,
            version=r.version,
            language=r.spec.language,
            source="shipped",
            active=r.id not in overridden,
        )
        for r in services().runtime.scorers.base.rubrics
        if rubric_id in (None, r.id)
    ]
    tenant_versions = [
        schemas.RubricInfo(
            rubric_id=v.rubric_id,
            version=v.version,
            source="tenant",
            active=v.active,
            created_at=v.created_at.isoformat(),
        )
        for v in stored
    ]
    return [r.model_dump() for r in shipped + tenant_versions]


@bp.get("/rubrics")
@operation(
    "Shipped rubrics and this tenant's versions",
    tag="rubrics",
    roles=LEADS,
    response=schemas.RubricList,
)
def list_rubrics(who: Principal) -> Any:
    with services().sessions() as session:
        return {"items": _all(session, who.tenant)}


@bp.get("/rubrics/<rubric_id>")
@operation("One rubric's versions", tag="rubrics", roles=LEADS, response=schemas.RubricList)
def get_rubric(who: Principal, rubric_id: str) -> Any:
    with services().sessions() as session:
        items = _all(session, who.tenant, rubric_id)
    if not items:
        raise NotFound(f"rubric {rubric_id!r}")
    return {"items": items}


@bp.get("/rubrics/<rubric_id>/versions/<version>")
@operation(
    "One uploaded rubric version with its text",
    tag="rubrics",
    roles=LEADS,
    response=schemas.RubricText,
)
def get_version(who: Principal, rubric_id: str, version: str) -> Any:
    with services().sessions() as session:
        versions = list_rubric_versions(session, who.tenant, rubric_id)
    stored = next((v for v in versions if v.version == version), None)
    if stored is None:
        raise NotFound(f"rubric {rubric_id!r} version {version!r}")
    return schemas.RubricText(
        rubric_id=stored.rubric_id,
        version=stored.version,
        source="tenant",
        active=stored.active,
        created_at=stored.created_at.isoformat(),
        text=stored.text,
    ).model_dump()


@bp.post("/rubrics")
@operation(
    "Upload a rubric version (YAML or JSON); errors name the offending fields",
    tag="rubrics",
    roles=LEADS,
    raw_body={t: {"schema": {"type": "string"}} for t in RUBRIC_TYPES[:4]},
    response=schemas.RubricInfo,
    status=201,
)
def upload(who: Principal) -> Any:
    if request.mimetype not in RUBRIC_TYPES:
        raise Problem(415, "send the rubric as application/yaml or application/json")
    try:
        text = request.get_data().decode("utf-8")
    except UnicodeDecodeError:
        raise Problem(422, "the rubric is not UTF-8") from None
    try:
        with services().sessions.begin() as session:  # JSON is YAML: one parser for both
            stored = repository.save_rubric_version(session, who.tenant, text, "body")
    except RubricError as exc:
        raise Problem(422, "the rubric does not validate", exc.errors) from None
    return schemas.RubricInfo(
        rubric_id=stored.rubric_id,
        version=stored.version,
        source="tenant",
        active=stored.active,
        created_at=stored.created_at.isoformat(),
    ).model_dump(), 201


@bp.put("/rubrics/<rubric_id>/active")
@operation(
    "Make a stored version the one that scores this tenant's conversations",
    tag="rubrics",
    roles=LEADS,
    body=schemas.ActivateRubric,
    response=schemas.RubricList,
)
def activate(who: Principal, rubric_id: str, body: schemas.ActivateRubric) -> Any:
    with services().sessions.begin() as session:
        repository.set_active_rubric(session, who.tenant, rubric_id, body.version)
    with services().sessions() as session:
        return {"items": _all(session, who.tenant, rubric_id)}
