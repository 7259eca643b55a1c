"""Scorers per tenant: the tenant's active rubric versions first, then the shipped defaults.

``Scorer.rubric_for`` takes the first rubric of the conversation's language, so putting a
tenant's active rubrics in front makes them win for their language and leaves the other
language on the shipped default. Compiled scorers are cached by the exact active versions, so a
newly activated version is picked up on the next call without a restart.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from qa_scoring.classify.base import Classifier
from qa_scoring.config import Settings
from qa_scoring.pipeline import Scorer
from qa_scoring.rubric import parse_rubric
from qa_scoring.storage.models import RubricVersion


@dataclass(frozen=True)
class RubricVersionInfo:
    rubric_id: str
    version: str
    active: bool
    created_at: datetime
    text: str


def list_rubric_versions(
    session: Session, tenant: str, rubric_id: str | None = None
) -> list[RubricVersionInfo]:
    stmt = select(RubricVersion).where(RubricVersion.tenant_id == tenant)
    if rubric_id is not None:
        stmt = stmt.where(RubricVersion.rubric_id == rubric_id)
    stmt = stmt.order_by(RubricVersion.rubric_id, RubricVersion.created_at, RubricVersion.id)
    return [
        RubricVersionInfo(r.rubric_id, r.version, r.active, r.created_at, r.yaml_text)
        for r in session.scalars(stmt)
    ]


class TenantScorers:
    """Builds the default scorer once (lazily: loading the classifier is the slow part) and one
    scorer per distinct set of active tenant rubrics, sharing its classifier."""

    def __init__(self, settings: Settings, classifier: Classifier | None = None) -> None:
        self._settings = settings
        self._classifier = classifier
        self._base: Scorer | None = None
        self._cache: dict[tuple[str, tuple[tuple[str, str], ...]], Scorer] = {}
        self._lock = threading.Lock()

    @property
    def base(self) -> Scorer:
        with self._lock:
            if self._base is None:
                from qa_scoring.engine import build_scorer  # loads the model stack on first use

                self._base = build_scorer(self._settings, classifier=self._classifier)
            return self._base

    def for_tenant(self, session: Session, tenant: str) -> Scorer:
        active = session.execute(
            select(RubricVersion.rubric_id, RubricVersion.version, RubricVersion.yaml_text)
            .where(RubricVersion.tenant_id == tenant, RubricVersion.active)
            .order_by(RubricVersion.rubric_id)
        ).all()
        base = self.base
        if not active:
            return base
        # Versions are immutable per tenant, so (tenant, ids and versions) names the rubric texts.
        key = (tenant, tuple((r.rubric_id, r.version) for r in active))
        with self._lock:
            if key not in self._cache:
                rubrics = [parse_rubric(yaml.safe_load(r.yaml_text), r.rubric_id) for r in active]
                self._cache[key] = Scorer(rubrics + base.rubrics, base.classifier, base.policies)
            return self._cache[key]
