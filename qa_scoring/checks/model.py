"""Threshold checks on a classifier head's calibrated output.

The check reads predictions the pipeline attached to the context (one batched encoder pass for
all conversations), so it never runs a model itself and composes like any rule.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from qa_scoring.checks.base import Check, CheckResult, Context, Evidence, Params, register
from qa_scoring.checks.scope import Scope, ScopeParams
from qa_scoring.classify.base import CONVERSATION_HEADS
from qa_scoring.conversation import Conversation
from qa_scoring.i18n import msg

# The lexical fallback is a stand-in, not a model: its verdicts are capped at this confidence so
# they always route to a human instead of costing points silently.
FALLBACK_MAX_CONFIDENCE = 0.4


class ModelParams(Params):
    head: str = Field(min_length=1, description="head or head.sub, e.g. politeness, resolution")
    threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    direction: Literal["above", "below"] = Field(
        default="above", description="the good side: p >= threshold (above) or p < threshold"
    )
    aggregate: Literal["all", "any", "mean"] = "all"
    scope: ScopeParams = ScopeParams()


@register("model")
class ModelCheck(Check):
    Params = ModelParams

    def __init__(self, params: ModelParams, path: str) -> None:
        super().__init__(params, path)
        self.scope = Scope(params.scope, f"{path}.scope")
        self.conversation_level = params.head.split(".")[0] in CONVERSATION_HEADS

    def evaluate(self, conversation: Conversation, context: Context) -> CheckResult:
        p: ModelParams = self.params  # type: ignore[assignment]
        preds = context.predictions
        lang = conversation.language
        version = preds.versions.get(p.head.split(".")[0])
        source = f"model:{p.head}@{version}" if preds.is_model else f"fallback:lexical:{p.head}"
        if self.conversation_level:
            probs = {None: preds.conversation.get(p.head)}
        else:
            turns = self.scope.select(conversation, context)
            if not turns:
                return CheckResult(None, source, detail=msg("no_trigger", lang))
            probs = {i: preds.turns.get(i, {}).get(p.head) for i in turns}
        if any(v is None for v in probs.values()):
            return CheckResult(None, source, detail=msg("head_unavailable", lang, head=p.head))

        good = {i: (v >= p.threshold) == (p.direction == "above") for i, v in probs.items()}
        if p.aggregate == "mean":
            mean = sum(probs.values()) / len(probs)  # type: ignore[arg-type]
            score = float((mean >= p.threshold) == (p.direction == "above"))
        elif p.aggregate == "any":
            score = float(any(good.values()))
        else:
            score = sum(good.values()) / len(good)
        confidence = sum(max(v, 1 - v) for v in probs.values()) / len(probs)  # type: ignore[misc]
        if not preds.is_model:
            confidence = min(confidence, FALLBACK_MAX_CONFIDENCE)
        note_key = "model_below" if p.direction == "above" else "model_above"

        def evidence(i: int | None, v: float) -> Evidence:
            note = msg(note_key, lang, head=p.head, p=v, threshold=p.threshold)
            turn = i if i is not None else len(conversation.turns) - 1
            return Evidence.whole_turn(conversation, turn, note)

        bad = tuple(evidence(i, probs[i]) for i, ok in good.items() if not ok)  # type: ignore[arg-type]
        hits = tuple(
            Evidence.whole_turn(conversation, i) for i, ok in good.items() if ok and i is not None
        )
        return CheckResult(
            score,
            source,
            evidence=bad if score < 1 else (),
            hits=hits,
            confidence=round(confidence, 4),
        )
