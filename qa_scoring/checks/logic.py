"""Boolean composition over other checks: all / any / not, and ordered steps (``sequence``).

Children can be any registered check, so a rubric can say "customer complains AND no apology
within 2 agent turns" or "politeness model above 0.5 AND no 禁语". A ``sequence`` with a trigger
is how the complaint-handling flow (acknowledge → apologise → gather facts → solution →
confirm) is written.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from qa_scoring.checks.base import (
    Check,
    CheckResult,
    Context,
    Evidence,
    Params,
    build_check,
    register,
)
from qa_scoring.conversation import Conversation
from qa_scoring.i18n import label, msg


def _merge(results: list[CheckResult], attr: str) -> tuple[Evidence, ...]:
    return tuple(e for r in results for e in getattr(r, attr))


def _confidence(results: list[CheckResult]) -> float:
    return min((r.confidence for r in results), default=1.0)


class GroupParams(Params):
    checks: list[dict[str, Any]] = Field(min_length=1)


class _Group(Check):
    def __init__(self, params: GroupParams, path: str) -> None:
        super().__init__(params, path)
        self.children = [build_check(s, f"{path}.checks[{i}]") for i, s in enumerate(params.checks)]

    def _applicable(self, conversation: Conversation, context: Context) -> list[CheckResult]:
        return [r for c in self.children if (r := c.evaluate(conversation, context)).applicable]


@register("all")
class AllCheck(_Group):
    """Passes when every applicable child passes; scores the weakest child."""

    Params = GroupParams

    def evaluate(self, conversation: Conversation, context: Context) -> CheckResult:
        results = self._applicable(conversation, context)
        if not results:
            return CheckResult(None, self.source)
        failing = [r for r in results if not r.passed]
        return CheckResult(
            min(r.score for r in results),  # type: ignore[type-var]
            self.source,
            evidence=_merge(failing, "evidence"),
            hits=() if failing else _merge(results, "hits"),
            confidence=_confidence(results),
            detail="; ".join(r.detail for r in failing if r.detail),
        )


@register("any")
class AnyCheck(_Group):
    """Passes when one applicable child passes; scores the strongest child."""

    Params = GroupParams

    def evaluate(self, conversation: Conversation, context: Context) -> CheckResult:
        results = self._applicable(conversation, context)
        if not results:
            return CheckResult(None, self.source)
        passing = [r for r in results if r.passed]
        return CheckResult(
            max(r.score for r in results),  # type: ignore[type-var]
            self.source,
            evidence=() if passing else _merge(results, "evidence"),
            hits=_merge(passing, "hits"),
            confidence=_confidence(passing or results),
            detail="" if passing else "; ".join(r.detail for r in results if r.detail),
        )


class NotParams(Params):
    check: dict[str, Any]


@register("not")
class NotCheck(Check):
    """Inverts a child: where the child's condition was found is where this one lost points."""

    Params = NotParams

    def __init__(self, params: NotParams, path: str) -> None:
        super().__init__(params, path)
        self.child = build_check(params.check, f"{path}.check")

    def evaluate(self, conversation: Conversation, context: Context) -> CheckResult:
        r = self.child.evaluate(conversation, context)
        if r.score is None:
            return r
        return CheckResult(
            1.0 - r.score, self.source, evidence=r.hits, hits=r.evidence, confidence=r.confidence
        )


class Step(Params):
    name: dict[str, str] | str
    check: dict[str, Any]


class SequenceParams(Params):
    steps: list[Step] = Field(min_length=1)
    trigger: dict[str, Any] | None = Field(
        default=None, description="a check; the sequence applies from its first hit (else N/A)"
    )


@register("sequence")
class SequenceCheck(Check):
    """Steps that must happen in order; scores the share of steps found in order.

    A step counts when one of its hits comes at or after the turn of the previous counted step
    (and after the trigger). Missing steps are evidenced at the turn where they were due.
    """

    Params = SequenceParams

    def __init__(self, params: SequenceParams, path: str) -> None:
        super().__init__(params, path)
        self.trigger = build_check(params.trigger, f"{path}.trigger") if params.trigger else None
        self.steps = [
            build_check(s.check, f"{path}.steps[{i}].check") for i, s in enumerate(params.steps)
        ]

    def evaluate(self, conversation: Conversation, context: Context) -> CheckResult:
        lang = conversation.language
        start = 0
        if self.trigger is not None:
            fired = self.trigger.evaluate(conversation, context).hits
            if not fired:
                return CheckResult(None, self.source, detail=msg("no_trigger", lang))
            start = min(h.turn for h in fired)
        agent_turns = [i for i in conversation.agent_turn_indices if i > start]
        if not agent_turns:  # the complaint came last: the steps were due right there
            agent_turns = [start]
        found, hits, evidence, confidences = 0, [], [], []
        cursor = start
        for spec, check in zip(self.params.steps, self.steps, strict=True):  # type: ignore[attr-defined]
            result = check.evaluate(conversation, context)
            if result.score is None:  # a step that cannot apply (e.g. a disabled head) is skipped
                continue
            confidences.append(result.confidence)
            in_order = [h for h in result.hits if h.turn >= cursor]
            name = label(spec.name, lang)
            if in_order:
                found += 1
                cursor = min(h.turn for h in in_order)
                hits.extend(in_order)
                continue
            key = "step_out_of_order" if result.hits else "missing_step"
            due = next((i for i in agent_turns if i >= cursor), agent_turns[-1])
            evidence.append(Evidence.whole_turn(conversation, due, msg(key, lang, step=name)))
        if not confidences:
            return CheckResult(None, self.source)
        return CheckResult(
            found / len(confidences),
            self.source,
            evidence=tuple(evidence),
            hits=tuple(hits),
            confidence=min(confidences),
            detail="; ".join(e.note for e in evidence),
        )
