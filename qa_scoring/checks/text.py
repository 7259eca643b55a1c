"""Phrase and regex checks over the turns in scope.

``mode`` says what the criterion wants: ``any`` (at least one phrase appears), ``all`` (every
phrase appears somewhere in scope) or ``none`` (no phrase may appear — 禁语, jargon).
"""

from __future__ import annotations

import re
from abc import abstractmethod
from typing import Literal

import ahocorasick
from pydantic import Field, field_validator

from qa_scoring.checks.base import Check, CheckResult, Context, Evidence, Params, register
from qa_scoring.checks.scope import Scope, ScopeParams
from qa_scoring.conversation import Conversation
from qa_scoring.i18n import msg

Mode = Literal["any", "all", "none"]
Match = tuple[int, int, str]  # start, end, which phrase/pattern matched


class _MatcherParams(Params):
    mode: Mode = "any"
    scope: ScopeParams = ScopeParams()


class _Matcher(Check):
    """Shared evaluation for checks that find labelled spans in turn text."""

    def __init__(self, params: _MatcherParams, path: str) -> None:
        super().__init__(params, path)
        self.scope = Scope(params.scope, f"{path}.scope")

    @abstractmethod
    def find(self, text: str) -> list[Match]: ...

    @abstractmethod
    def labels(self) -> list[str]: ...

    def evaluate(self, conversation: Conversation, context: Context) -> CheckResult:
        mode: Mode = self.params.mode  # type: ignore[attr-defined]
        lang = conversation.language
        turns = self.scope.select(conversation, context)
        if not turns:
            return CheckResult(None, self.source, detail=msg("no_trigger", lang))
        found = [
            (i, s, e, label) for i in turns for s, e, label in self.find(conversation.turns[i].text)
        ]
        hits = tuple(
            Evidence(i, s, e, conversation.turns[i].text[s:e], msg("found", lang, text=label))
            for i, s, e, label in found
        )
        if mode == "none":
            return CheckResult(0.0 if hits else 1.0, self.source, evidence=hits, hits=hits)
        wanted = self.labels() if mode == "all" else []
        missing = [label for label in wanted if label not in {f[3] for f in found}]
        if hits and not missing:
            return CheckResult(1.0, self.source, hits=hits)
        if mode == "any":
            score, note = 0.0, msg("expected_any", lang, phrases=" | ".join(self.labels()))
        else:
            score = 1.0 - len(missing) / len(wanted)
            note = msg("expected_all", lang, phrases=" | ".join(missing))
        return CheckResult(
            score,
            self.source,
            hits=hits,
            detail=note,
            evidence=(Evidence.whole_turn(conversation, turns[0], note),),
        )


class KeywordParams(_MatcherParams):
    phrases: list[str] = Field(min_length=1)
    case_sensitive: bool = False

    @field_validator("phrases")
    @classmethod
    def _no_blank(cls, phrases: list[str]) -> list[str]:
        if any(not p.strip() for p in phrases):
            raise ValueError("phrases must not be blank")
        return phrases


def _is_word_char(ch: str) -> bool:
    return ch.isascii() and (ch.isalnum() or ch == "_")


@register("keyword")
class KeywordCheck(_Matcher):
    """Many phrases at once with one Aho-Corasick automaton per rubric.

    Latin phrases must sit on word boundaries ("hi" is not in "this"); CJK phrases need none,
    since Chinese has no spaces.
    """

    Params = KeywordParams

    def __init__(self, params: KeywordParams, path: str) -> None:
        super().__init__(params, path)
        self.automaton = ahocorasick.Automaton()
        for phrase in params.phrases:
            key = phrase if params.case_sensitive else phrase.lower()
            self.automaton.add_word(key, (len(key), phrase))
        self.automaton.make_automaton()

    def labels(self) -> list[str]:
        return list(self.params.phrases)  # type: ignore[attr-defined]

    def find(self, text: str) -> list[Match]:
        haystack = text if self.params.case_sensitive else text.lower()  # type: ignore[attr-defined]
        if len(haystack) != len(text):  # rare case-mappings that change length break offsets
            haystack = text
        out: list[Match] = []
        for end_idx, (length, phrase) in self.automaton.iter(haystack):
            start, end = end_idx - length + 1, end_idx + 1
            if _is_word_char(text[start]) and start > 0 and _is_word_char(text[start - 1]):
                continue
            if _is_word_char(text[end - 1]) and end < len(text) and _is_word_char(text[end]):
                continue
            out.append((start, end, phrase))
        return out


class RegexParams(_MatcherParams):
    patterns: list[str] = Field(min_length=1)
    ignore_case: bool = True

    @field_validator("patterns")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"invalid regex {pattern!r}: {exc}") from None
        return patterns


@register("regex")
class RegexCheck(_Matcher):
    Params = RegexParams

    def __init__(self, params: RegexParams, path: str) -> None:
        super().__init__(params, path)
        flags = re.IGNORECASE if params.ignore_case else 0
        self.compiled = [re.compile(p, flags) for p in params.patterns]

    def labels(self) -> list[str]:
        return list(self.params.patterns)  # type: ignore[attr-defined]

    def find(self, text: str) -> list[Match]:
        return [
            (m.start(), m.end(), rx.pattern)
            for rx in self.compiled
            for m in rx.finditer(text)
            if m.end() > m.start()
        ]
