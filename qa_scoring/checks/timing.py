"""Response-time checks (响应速度) over the customer → agent reply gaps from ``metrics``.

Missing timestamps make a measure not applicable, never failed: many helpdesk exports drop
them, and an agent must not lose points for the export format.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, ValidationInfo, field_validator

from qa_scoring.checks.base import Check, CheckResult, Context, Evidence, Params, register
from qa_scoring.checks.text import KeywordCheck, KeywordParams
from qa_scoring.conversation import Conversation
from qa_scoring.i18n import msg
from qa_scoring.metrics import ReplyGap, reply_gaps

Measure = Literal["first_response", "every_reply", "longest_gap", "wait_without_apology"]

APOLOGY_PHRASES = [
    "久等",
    "让您等",
    "抱歉",
    "不好意思",
    "sorry for the wait",
    "sorry to keep you waiting",
    "thanks for waiting",
    "thank you for waiting",
    "thanks for your patience",
    "thank you for your patience",
    "apologies for the delay",
    "sorry for the delay",
]


class ResponseTimeParams(Params):
    measure: Measure
    max_seconds: float = Field(gt=0, description="a reply within this is on time")
    fail_seconds: float | None = Field(
        default=None, description="score falls linearly to 0 here; unset = pass/fail at max"
    )
    apology_phrases: list[Annotated[str, StringConstraints(pattern=r"\S")]] = Field(
        default=APOLOGY_PHRASES, min_length=1
    )

    @field_validator("fail_seconds")
    @classmethod
    def _after_max(cls, value: float | None, info: ValidationInfo) -> float | None:
        if value is not None and info.data.get("measure") == "wait_without_apology":
            raise ValueError("does not apply to measure wait_without_apology")
        limit = info.data.get("max_seconds")
        if value is not None and limit is not None and value <= limit:
            raise ValueError(f"must be greater than max_seconds ({limit:g})")
        return value

    @field_validator("apology_phrases")
    @classmethod
    def _apology_measure_only(cls, value: list[str], info: ValidationInfo) -> list[str]:
        if info.data.get("measure", "wait_without_apology") != "wait_without_apology":
            raise ValueError("only applies to measure wait_without_apology")
        return value


def format_duration(seconds: float, language: str | None) -> str:
    """6m12s / 6分12秒; whole minutes read 3m / 3分钟."""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if language == "zh":
        parts = [(hours, "小时"), (minutes, "分" if secs else "分钟"), (secs, "秒")]
    else:
        parts = [(hours, "h"), (minutes, "m"), (secs, "s")]
    return "".join(f"{n}{unit}" for n, unit in parts if n) or ("0秒" if language == "zh" else "0s")


@register("response_time")
class ResponseTimeCheck(Check):
    """Scores reply speed on one of four measures.

    ``first_response`` and ``longest_gap`` score one reply; ``every_reply`` averages over all
    replies (with the default binary scoring that is the share on time);
    ``wait_without_apology`` scores the share of replies over the limit that apologise.
    """

    Params = ResponseTimeParams

    def __init__(self, params: ResponseTimeParams, path: str) -> None:
        super().__init__(params, path)
        self.apology = KeywordCheck(
            KeywordParams(phrases=params.apology_phrases), f"{path}.apology_phrases"
        )

    def evaluate(self, conversation: Conversation, context: Context) -> CheckResult:
        lang = conversation.language
        gaps = reply_gaps(conversation)
        if not gaps:
            return CheckResult(None, self.source, detail=msg("no_reply_to_time", lang))
        timed = self._measured(gaps)
        if not timed:
            return CheckResult(None, self.source, detail=msg("no_timestamps", lang))
        if self.params.measure == "wait_without_apology":  # type: ignore[attr-defined]
            return self._apologies(conversation, timed)
        scored = [(g, secs, self._score(secs)) for g, secs in timed]
        late = [
            self._evidence(conversation, g, secs, "late_reply") for g, secs, s in scored if s < 1
        ]
        on_time = [Evidence.whole_turn(conversation, g.agent_turn) for g, _, s in scored if s >= 1]
        return CheckResult(
            sum(s for _, _, s in scored) / len(scored),
            self.source,
            evidence=tuple(late),
            hits=tuple(on_time),
            detail="; ".join(e.note for e in late),
        )

    def _measured(self, gaps: list[ReplyGap]) -> list[tuple[ReplyGap, float]]:
        """The replies this measure scores with their seconds; empty when timestamps are missing."""
        measure = self.params.measure  # type: ignore[attr-defined]
        timed = [(g, g.seconds) for g in gaps if g.seconds is not None]
        if measure == "first_response":
            return timed[:1] if gaps[0].seconds is not None else []
        if measure == "longest_gap":
            return [max(timed, key=lambda t: t[1])] if timed else []
        return timed

    def _score(self, seconds: float) -> float:
        p: ResponseTimeParams = self.params  # type: ignore[assignment]
        if seconds <= p.max_seconds:
            return 1.0
        if p.fail_seconds is None or seconds >= p.fail_seconds:
            return 0.0
        return (p.fail_seconds - seconds) / (p.fail_seconds - p.max_seconds)

    def _apologies(
        self, conversation: Conversation, timed: list[tuple[ReplyGap, float]]
    ) -> CheckResult:
        lang = conversation.language
        limit: float = self.params.max_seconds  # type: ignore[attr-defined]
        long_waits = [(g, secs) for g, secs in timed if secs > limit]
        if not long_waits:
            return CheckResult(None, self.source, detail=msg("no_long_wait", lang))
        hits: list[Evidence] = []
        evidence: list[Evidence] = []
        for g, secs in long_waits:
            text = conversation.turns[g.agent_turn].text
            found = self.apology.find(text)
            hits.extend(
                Evidence(g.agent_turn, s, e, text[s:e], msg("found", lang, text=phrase))
                for s, e, phrase in found
            )
            if not found:
                evidence.append(self._evidence(conversation, g, secs, "late_reply_no_apology"))
        return CheckResult(
            1.0 - len(evidence) / len(long_waits),
            self.source,
            evidence=tuple(evidence),
            hits=tuple(hits),
            detail="; ".join(e.note for e in evidence),
        )

    def _evidence(
        self, conversation: Conversation, gap: ReplyGap, seconds: float, key: str
    ) -> Evidence:
        lang = conversation.language
        note = msg(
            key,
            lang,
            waited=format_duration(seconds, lang),
            limit=format_duration(self.params.max_seconds, lang),  # type: ignore[attr-defined]
        )
        return Evidence.whole_turn(conversation, gap.agent_turn, note)
