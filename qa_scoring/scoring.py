"""Rubric arithmetic: criterion results → points → dimension scores → overall, auto-fail,
pass/fail, and the flags that decide whether a human should look.

Nothing here knows whether a result came from a rule or a model: it reads scores, confidence
and evidence only.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from qa_scoring.checks import CheckResult
from qa_scoring.rubric import ReviewPolicy, Rubric


@dataclass(frozen=True)
class CriterionResult:
    criterion: str
    dimension: str
    points_possible: float
    critical: bool
    result: CheckResult

    @property
    def points(self) -> float | None:
        """Points earned; None when not applicable (N/A never costs points)."""
        if self.result.score is None:
            return None
        return round(self.points_possible * self.result.score, 4)

    def to_dict(self) -> dict[str, Any]:
        r = self.result
        return {
            "criterion": self.criterion,
            "dimension": self.dimension,
            "critical": self.critical,
            "points": self.points,
            "points_possible": self.points_possible,
            "applicable": r.applicable,
            "passed": r.passed,
            "score": r.score,
            "source": r.source,
            "confidence": r.confidence,
            "detail": r.detail,
            "evidence": [asdict(e) for e in r.evidence],
        }


@dataclass(frozen=True)
class Tally:
    overall: float
    dimensions: dict[str, float | None]
    auto_failed: bool
    passed: bool


def tally(rubric: Rubric, results: list[CriterionResult]) -> Tally:
    """Points earned over points possible, per dimension and overall, on a 0–100 scale.

    Only applicable criteria count in the denominator. A failed critical criterion zeroes the
    overall score and fails the conversation, whatever else it earned.
    """
    earned: dict[str, float] = {}
    possible: dict[str, float] = {}
    for r in results:
        if r.points is not None:
            earned[r.dimension] = earned.get(r.dimension, 0.0) + r.points
            possible[r.dimension] = possible.get(r.dimension, 0.0) + r.points_possible
    dimensions = {
        d.id: (round(100 * earned[d.id] / possible[d.id], 2) if possible.get(d.id) else None)
        for d in rubric.spec.dimensions
    }
    total = sum(possible.values())
    overall = round(100 * sum(earned.values()) / total, 2) if total else 100.0
    auto_failed = any(r.critical and r.result.passed is False for r in results)
    if auto_failed:
        overall = 0.0
    return Tally(
        overall, dimensions, auto_failed, not auto_failed and overall >= rubric.spec.pass_mark
    )


@dataclass(frozen=True)
class Signals:
    """What the flags read besides the tally: helpdesk ground truth, metrics, model outputs."""

    csat: int | None = None
    resolved: bool | None = None
    satisfaction: float | None = None
    longest_gap_s: float | None = None
    agent_turns: int = 1


def flags_for(
    policy: ReviewPolicy, pass_mark: float, t: Tally, results: list[CriterionResult], s: Signals
) -> list[str]:
    flags = []
    if s.agent_turns == 0:  # nothing of the agent's to judge: the score is rules' defaults
        flags.append("no_agent_reply")
    if t.auto_failed:
        flags.append("auto_fail")
    if t.overall < pass_mark:
        flags.append("below_pass_mark")
    if not t.auto_failed and abs(t.overall - pass_mark) <= policy.borderline_band:
        flags.append("borderline")
    if any(
        r.result.passed is False and r.result.confidence < policy.min_confidence for r in results
    ):
        flags.append("low_confidence")
    unhappy = (
        (s.csat is not None and s.csat <= policy.unhappy_csat_at_most)
        or s.resolved is False
        or (s.satisfaction is not None and s.satisfaction < policy.unhappy_satisfaction_below)
    )
    if unhappy:
        flags.append("customer_unhappy")
    if s.longest_gap_s is not None and s.longest_gap_s > policy.long_wait_seconds:
        flags.append("long_wait")
    return flags


@dataclass
class Score:
    """The scored, explained QA evaluation of one conversation. Immutable once stored."""

    conversation_id: str
    agent_id: str
    team: str | None
    language: str
    channel: str
    started_at: datetime | None
    overall: float
    passed: bool
    auto_failed: bool
    dimensions: dict[str, float | None]
    criteria: list[CriterionResult]
    flags: list[str]
    needs_review: bool
    review_reasons: list[str]
    metrics: dict[str, Any]
    rubric: dict[str, str]
    models: dict[str, str]
    predictions: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "conversation_id": self.conversation_id,
            "agent_id": self.agent_id,
            "team": self.team,
            "language": self.language,
            "channel": self.channel,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "overall": self.overall,
            "passed": self.passed,
            "auto_failed": self.auto_failed,
            "dimensions": self.dimensions,
            "criteria": [c.to_dict() for c in self.criteria],
            "flags": self.flags,
            "needs_review": self.needs_review,
            "review_reasons": self.review_reasons,
            "metrics": self.metrics,
            "rubric": self.rubric,
            "models": self.models,
            "predictions": self.predictions,
        }
