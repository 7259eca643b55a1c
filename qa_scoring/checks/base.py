"""The one interface every check implements, the result type it returns, and the registry that
builds checks from rubric specs by type name (as spaCy registers pipeline components).

A check answers two things about a conversation: where its condition holds (``hits``) and how
far the agent met the criterion (``score``, with ``evidence`` for what was lost). Boolean
composition and anchors are built from the hits of other checks, so any check — rule or model —
can take part in them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from qa_scoring.classify.base import Predictions
from qa_scoring.conversation import Conversation, field_errors
from qa_scoring.errors import FieldError, RubricError

PASS_EPSILON = 1e-9


@dataclass(frozen=True)
class Evidence:
    """A span of one turn's original text: ``turns[turn].text[start:end] == text``.

    An empty span (start == end) points at the turn as a whole, e.g. where a greeting was due.
    """

    turn: int
    start: int
    end: int
    text: str
    note: str = ""

    @classmethod
    def whole_turn(cls, conversation: Conversation, turn: int, note: str = "") -> Evidence:
        text = conversation.turns[turn].text
        return cls(turn, 0, len(text), text, note)


@dataclass(frozen=True)
class CheckResult:
    """Outcome of one check on one conversation.

    ``score`` is None when the check does not apply (N/A never costs points). ``evidence`` says
    where points were lost; ``hits`` says where the check's condition was found (used by
    composition and anchors). ``source`` names the rule or model (with version) that decided.
    """

    score: float | None
    source: str
    evidence: tuple[Evidence, ...] = ()
    hits: tuple[Evidence, ...] = ()
    confidence: float = 1.0
    detail: str = ""

    @property
    def applicable(self) -> bool:
        return self.score is not None

    @property
    def passed(self) -> bool | None:
        return None if self.score is None else self.score >= 1.0 - PASS_EPSILON


@dataclass
class Context:
    """What a check may read besides the conversation: model outputs and shop facts."""

    predictions: Predictions = field(default_factory=Predictions)
    policy: Mapping[str, Any] | None = None


class Params(BaseModel):
    """Base for each check type's parameters: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Check(ABC):
    """A rule or model check, built once per rubric and evaluated for every conversation."""

    type_name: ClassVar[str]
    Params: ClassVar[type[Params]]

    def __init__(self, params: Params, path: str) -> None:
        self.params = params
        self.path = path  # where it sits in the rubric, e.g. "criteria[3].check"

    @property
    def source(self) -> str:
        return f"rule:{self.type_name}"

    @abstractmethod
    def evaluate(self, conversation: Conversation, context: Context) -> CheckResult: ...


CHECKS: dict[str, type[Check]] = {}


def register(type_name: str) -> Callable[[type[Check]], type[Check]]:
    """Class decorator: make a check type available to rubrics as ``type: <type_name>``."""

    def decorate(cls: type[Check]) -> type[Check]:
        if type_name in CHECKS:
            raise ValueError(f"check type {type_name!r} is registered twice")
        cls.type_name = type_name
        CHECKS[type_name] = cls
        return cls

    return decorate


def build_check(spec: Any, path: str) -> Check:
    """Validate one check spec from a rubric and build it; errors name the rubric path."""
    if not isinstance(spec, dict):
        raise RubricError(path, [FieldError(path, "a check must be a mapping with a 'type'")])
    spec = dict(spec)
    type_name = spec.pop("type", None)
    if type_name not in CHECKS:
        known = ", ".join(sorted(CHECKS))
        raise RubricError(
            path, [FieldError(f"{path}.type", f"unknown check type {type_name!r} (known: {known})")]
        )
    cls = CHECKS[type_name]
    try:
        params = cls.Params.model_validate(spec)
    except ValidationError as exc:
        raise RubricError(
            path,
            [FieldError(f"{path}.{e.field}", e.reason) for e in field_errors(exc, root="(check)")],
        ) from None
    return cls(params, path)
