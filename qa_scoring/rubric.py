"""Rubrics: versioned YAML data that says what is checked, how much it weighs and what fails
a conversation outright. Validated on load; checks are compiled once per rubric."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from qa_scoring.checks import Check, build_check
from qa_scoring.conversation import field_errors
from qa_scoring.errors import FieldError, RubricError

_ID = r"^[a-z0-9][a-z0-9_.-]*$"
FLAGS = (
    "no_agent_reply",
    "auto_fail",
    "below_pass_mark",
    "borderline",
    "low_confidence",
    "customer_unhappy",
    "long_wait",
)


class Localized(BaseModel):
    """A label in both product languages; one may be missing, never both."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    zh: str | None = None
    en: str | None = None

    @model_validator(mode="after")
    def _one_language(self) -> Localized:
        if not (self.zh or self.en):
            raise ValueError("give at least one of zh, en")
        return self

    def as_dict(self) -> dict[str, str]:
        return {k: v for k, v in (("zh", self.zh), ("en", self.en)) if v}


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Dimension(_Spec):
    id: str = Field(pattern=_ID)
    name: Localized


class Criterion(_Spec):
    id: str = Field(pattern=_ID)
    dimension: str
    name: Localized
    description: Localized | None = None
    points: float = Field(gt=0)
    critical: bool = Field(default=False, description="failing it fails the conversation (0)")
    check: dict[str, Any]


class ReviewPolicy(_Spec):
    """When a conversation goes to a human. Thresholds are the shop's to tune."""

    min_confidence: float = Field(default=0.6, ge=0, le=1)
    borderline_band: float = Field(default=5.0, ge=0, description="± points around pass mark")
    unhappy_csat_at_most: int = Field(default=2, ge=1, le=5)
    unhappy_satisfaction_below: float = Field(default=0.3, ge=0, le=1)
    long_wait_seconds: float = Field(default=300, gt=0)
    review_flags: list[str] = Field(
        default=["no_agent_reply", "auto_fail", "borderline", "low_confidence", "customer_unhappy"]
    )

    @field_validator("review_flags")
    @classmethod
    def _known_flags(cls, flags: list[str]) -> list[str]:
        unknown = sorted(set(flags) - set(FLAGS))
        if unknown:
            raise ValueError(f"unknown flags {unknown} (known: {', '.join(FLAGS)})")
        return flags


class RubricSpec(_Spec):
    id: str = Field(pattern=_ID)
    version: str = Field(pattern=r"^\d+(\.\d+){0,2}$")
    language: Literal["zh", "en"] | None = None
    name: Localized
    description: Localized | None = None
    pass_mark: float = Field(ge=0, le=100)
    review: ReviewPolicy = ReviewPolicy()
    dimensions: list[Dimension] = Field(min_length=1)
    criteria: list[Criterion] = Field(min_length=1)

    @model_validator(mode="after")
    def _references(self) -> RubricSpec:
        dims = [d.id for d in self.dimensions]
        crits = [c.id for c in self.criteria]
        for kind, ids in (("dimension", dims), ("criterion", crits)):
            dupes = sorted({i for i in ids if ids.count(i) > 1})
            if dupes:
                raise ValueError(f"duplicate {kind} ids: {', '.join(dupes)}")
        for c in self.criteria:
            if c.dimension not in dims:
                raise ValueError(f"criterion {c.id!r} names unknown dimension {c.dimension!r}")
        return self


@dataclass(frozen=True)
class Rubric:
    """A validated rubric with its checks compiled, ready to evaluate many conversations."""

    spec: RubricSpec
    checks: dict[str, Check]  # criterion id -> compiled check

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def version(self) -> str:
        return self.spec.version

    @property
    def ref(self) -> dict[str, str]:
        return {"id": self.spec.id, "version": self.spec.version}


def parse_rubric(data: Any, source: str = "<rubric>") -> Rubric:
    """Validate a rubric mapping and compile its checks; every error names its path."""
    try:
        spec = RubricSpec.model_validate(data)
    except ValidationError as exc:
        raise RubricError(source, field_errors(exc, root="(rubric)")) from None
    checks = {}
    errors: list[FieldError] = []
    for i, criterion in enumerate(spec.criteria):
        try:
            checks[criterion.id] = build_check(criterion.check, f"criteria[{i}].check")
        except RubricError as exc:
            errors.extend(exc.errors)
    if errors:
        raise RubricError(source, errors)
    return Rubric(spec, checks)


def load_rubric(path: str | Path) -> Rubric:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RubricError(str(path), [FieldError("(file)", "no such file")]) from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise RubricError(str(path), [FieldError("(file)", _yaml_reason(exc))]) from None
    return parse_rubric(data, str(path))


def _yaml_reason(exc: Exception) -> str:
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    problem = getattr(exc, "problem", None) or str(exc)
    return re.sub(r"\s+", " ", f"not valid YAML{where}: {problem}")


def load_rubrics(directory: str | Path) -> list[Rubric]:
    """Every ``*.yaml`` rubric directly in ``directory`` (sub-folders hold other config)."""
    return [load_rubric(path) for path in sorted(Path(directory).glob("*.yaml"))]
