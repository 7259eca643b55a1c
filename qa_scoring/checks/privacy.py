"""Privacy (隐私合规): the agent must not reveal personal data nor ask for data it must not have.

Detectors validate what they find (身份证 checksum and birth date, Luhn for cards, issuer
prefixes) so that order numbers and tracking numbers — long digit runs in every e-commerce
chat — are not mistaken for personal data. Masked values (138****5678) never match.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, ValidationInfo, field_validator

from qa_scoring.checks.base import Check, CheckResult, Context, Evidence, Params, register
from qa_scoring.checks.text import KeywordCheck, KeywordParams
from qa_scoring.conversation import Conversation
from qa_scoring.i18n import msg

PiiKind = Literal["phone", "id_card", "bank_card", "email", "address"]
PII_KINDS: tuple[PiiKind, ...] = ("phone", "id_card", "bank_card", "email", "address")


@dataclass(frozen=True)
class PiiMatch:
    """One piece of personal data in a text; ``value`` is normalised for comparison."""

    kind: PiiKind
    start: int
    end: int
    text: str
    value: str


def normalize(text: str) -> str:
    """Spaces, dashes and case do not change a value: 138-1234-5678 is 13812345678."""
    return re.sub(r"[\s-]", "", text).lower()


_PHONE = re.compile(r"(?<!\d)(?:\+?86[ -]?)?1[3-9]\d(?:[ -]?\d{4}){2}(?!\d)")
_ID_CARD = re.compile(r"(?<!\d)\d{17}[\dXx](?![\dXx])")
# UnionPay 62, Visa 4, Mastercard 51-55 / 22-27, JCB 35, Discover 60/64/65; plain or in 4s.
_BANK_CARD = re.compile(
    r"(?<!\d)(?=62|4|5[1-5]|2[2-7]|35|6[045])"
    r"(?:\d{16,19}|\d{4}(?:[ -]\d{4}){3}(?:[ -]?\d{1,3})?)(?!\d)"
)
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
)
# A place name never contains these function words, so a match cannot start at "地址是…".
_PLACE = r"(?:(?![的是在址地到寄收发送我你您他她它请和给为要改填写这那])[\u4e00-\u9fff])"
_CN_NUM = r"[\d零〇一二三四五六七八九十百]+"
_ADDRESS_ZH = re.compile(
    rf"(?:{_PLACE}{{1,7}}?(?:省|自治区|市|自治州|州|盟|区|县|旗)){{1,4}}"
    rf"[\u4e00-\u9fffA-Za-z\d]{{1,12}}?(?:大道|大街|胡同|路|街|道|巷|弄)"
    rf"(?:{_CN_NUM}弄)?{_CN_NUM}(?:-\d+)?号"
    r"(?:[\u4e00-\u9fffA-Za-z\d-]{0,12}?(?:室|号楼|楼|栋|幢|单元|座|层|院))*"
)
_ADDRESS_EN = re.compile(
    r"\b\d{1,5}[A-Za-z]?\s+(?:[A-Z][A-Za-z'.-]*\s+){1,4}"
    r"(?i:street|st|road|rd|avenue|ave|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl"
    r"|terrace|close|crescent)\b\.?"
    r"(?:,?\s*(?i:apt|apartment|unit|suite|flat)\.?\s*#?\w+)?"
)
_ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def valid_id_card(number: str) -> bool:
    """18-digit 身份证: ISO 7064 MOD 11-2 check character and a real, past birth date."""
    if not re.fullmatch(r"\d{17}[\dXx]", number):
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    check = (12 - total % 11) % 11
    if number[17].upper() != ("X" if check == 10 else str(check)):
        return False
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    return date(1900, 1, 1) <= born <= date.today()


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _valid(kind: PiiKind, text: str) -> bool:
    if kind == "id_card":
        return valid_id_card(text)
    if kind == "bank_card":
        digits = re.sub(r"\D", "", text)
        return 16 <= len(digits) <= 19 and luhn_valid(digits)
    return True


def _value(kind: PiiKind, text: str) -> str:
    """The comparable value: a phone is its 11 digits whatever the +86 prefix or separators."""
    return re.sub(r"\D", "", text)[-11:] if kind == "phone" else normalize(text)


_DETECTORS: list[tuple[PiiKind, re.Pattern[str]]] = [
    # Most specific first: an 18-digit 身份证 that also passes Luhn is an ID, not a card.
    ("id_card", _ID_CARD),
    ("bank_card", _BANK_CARD),
    ("phone", _PHONE),
    ("email", _EMAIL),
    ("address", _ADDRESS_ZH),
    ("address", _ADDRESS_EN),
]


def find_pii(text: str, kinds: tuple[PiiKind, ...] | list[PiiKind] = PII_KINDS) -> list[PiiMatch]:
    """Validated personal data in ``text``, in order, without overlaps."""
    found: list[PiiMatch] = []
    for kind, pattern in _DETECTORS:
        if kind not in kinds:
            continue
        for m in pattern.finditer(text):
            overlaps = any(m.start() < f.end and f.start < m.end() for f in found)
            if not overlaps and _valid(kind, m.group()):
                found.append(PiiMatch(kind, m.start(), m.end(), m.group(), _value(kind, m.group())))
    return sorted(found, key=lambda f: f.start)


FORBIDDEN_REQUESTS = [
    "身份证号",
    "身份证号码",
    "身份证照片",
    "身份证正反面",
    "银行卡号",
    "卡号",
    "密码",
    "验证码",
    "安全码",
    "CVV",
    "ID number",
    "ID card number",
    "card number",
    "full card number",
    "password",
    "verification code",
    "security code",
]
# A request names the data together with a verb or question asking for it; a warning
# ("请勿泄露验证码", "we never ask for your password") negates it.
REQUEST_CUES = [
    # Handing the data to the agent, not typing it into the platform's own page (输入验证码).
    "提供",
    "发一下",
    "发下",
    "发过来",
    "发给",
    "发我",
    "拍给",
    "给我",
    "告诉",
    "告知",
    "报一下",
    "报下",
    "说一下",
    "说下",
    "念一下",
    "多少",
    "是什么",
    "核对一下",
    "需要您",
    "需要你",
    "send",
    "tell me",
    "give me",
    "provide",
    "share",
    "what is",
    "what's",
    "read out",
    "read me",
    "i need",
    "we need",
    "need your",
    "confirm your",
]
NEGATION_CUES = [
    "不要",
    "不会",
    "切勿",
    "请勿",
    "千万别",
    "别把",
    "别发",
    "别告诉",
    "不需要",
    "无需",
    "不用",
    "不得",
    "谨防",
    "never",
    "don't",
    "do not",
    "won't",
    "will not",
    "no need",
    "doesn't",
    "does not",
]
_SENTENCE_END = re.compile(r"[。.！!？?；;\n]")
_CLAUSE_END = re.compile(r"[，,、。.！!？?；;\n]")


def _keywords(phrases: list[str], path: str) -> KeywordCheck:
    return KeywordCheck(KeywordParams(phrases=phrases), path)


class PiiParams(Params):
    detect: list[PiiKind] = Field(default=list(PII_KINDS))
    reveal: bool = Field(default=True, description="agent gives data no customer turn gave")
    ask: bool = Field(
        default=True, description="agent asks for forbidden data", validate_default=True
    )
    forbidden_requests: list[Annotated[str, StringConstraints(pattern=r"\S")]] = Field(
        default=FORBIDDEN_REQUESTS, min_length=1
    )
    allow: list[str] = Field(
        default=[], description="values an agent may share, e.g. the shop's service email"
    )

    @field_validator("ask")
    @classmethod
    def _checks_something(cls, ask: bool, info: ValidationInfo) -> bool:
        if not ask and not (info.data.get("reveal") and info.data.get("detect")):
            raise ValueError("nothing to check: enable ask, or reveal with some detect kinds")
        return ask


@register("pii")
class PiiCheck(Check):
    """Score 0 when any agent turn reveals or asks for personal data, else 1.

    A value is revealed when no customer turn (nor the conversation's metadata) contains it:
    repeating back the customer's own address to confirm it is fine.
    """

    Params = PiiParams

    def __init__(self, params: PiiParams, path: str) -> None:
        super().__init__(params, path)
        self.requests = _keywords(params.forbidden_requests, f"{path}.forbidden_requests")
        self.request_cues = _keywords(REQUEST_CUES, path)
        self.negation_cues = _keywords(NEGATION_CUES, path)
        self.allowed = {normalize(v) for v in params.allow}

    def evaluate(self, conversation: Conversation, context: Context) -> CheckResult:
        lang = conversation.language
        agent_turns = conversation.agent_turn_indices
        if not agent_turns:
            return CheckResult(None, self.source, detail=msg("no_agent_turn", lang))
        p: PiiParams = self.params  # type: ignore[assignment]
        # What the customer (or the helpdesk, e.g. the order number) gave may be repeated back.
        given = [normalize(conversation.turns[i].text) for i in conversation.customer_turn_indices]
        given += [normalize(str(v)) for v in conversation.metadata.values()]
        found: list[Evidence] = []
        for i in agent_turns:
            text = conversation.turns[i].text
            if p.reveal:
                found += [
                    Evidence(i, m.start, m.end, m.text, _reveal_note(m, lang))
                    for m in find_pii(text, p.detect)
                    if m.value not in self.allowed and not any(m.value in g for g in given)
                ]
            if p.ask:
                found += [
                    Evidence(i, s, e, text[s:e], msg("pii_ask", lang, text=text[s:e]))
                    for s, e in self._requests(text)
                ]
        found.sort(key=lambda e: (e.turn, e.start))
        return CheckResult(
            0.0 if found else 1.0,
            self.source,
            evidence=tuple(found),
            hits=tuple(found),
            detail="; ".join(e.note for e in found),
        )

    def _requests(self, text: str) -> list[tuple[int, int]]:
        """Spans of forbidden data named in a clause that asks for it (outermost phrase only)."""
        spans = sorted(
            {(s, e) for s, e, _ in self.requests.find(text)}, key=lambda m: (m[0], -m[1])
        )
        out: list[tuple[int, int]] = []
        for s, e in spans:
            if out and s < out[-1][1]:  # 卡号 inside 银行卡号
                continue
            clause, lead = _context(text, s, e)
            if self.request_cues.find(lead) and not self.negation_cues.find(clause):
                out.append((s, e))
        return out


def _reveal_note(match: PiiMatch, language: str | None) -> str:
    return msg("pii_reveal", language, kind=msg(f"pii_{match.kind}", language))


def _context(text: str, start: int, end: int) -> tuple[str, str]:
    """The clause around ``text[start:end]``, and the sentence up to that clause's end.

    A request verb may come earlier in the sentence ("Send me your name, ID number and …"), but
    a negation only counts in the phrase's own clause ("不用担心，请把验证码发我" still asks).
    """
    sentence_start = max((m.end() for m in _SENTENCE_END.finditer(text, 0, start)), default=0)
    clause_start = max((m.end() for m in _CLAUSE_END.finditer(text, 0, start)), default=0)
    after = _CLAUSE_END.search(text, end)
    clause_end = after.start() if after else len(text)
    return text[clause_start:clause_end], text[sentence_start:clause_end]
