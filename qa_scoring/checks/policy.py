"""Grounded accuracy (专业能力): facts an agent states, checked against the shop's policy.

Claims are found with patterns for the ways agents phrase them in zh and en ("7天无理由退货",
"15天内可以换码", "保修一年", "48小时内发货", "满99包邮", "ships within 24 hours",
"12-month warranty") and, for prices, a product name or SKU from the policy in the same
sentence as an amount. Amounts that are not a list price (discounts, coupons, totals, refunds,
到手价) are skipped, so a correct promotion sum is not read as a wrong price.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from pydantic import Field

from qa_scoring.checks.base import Check, CheckResult, Context, Evidence, Params, register
from qa_scoring.checks.text import KeywordCheck, KeywordParams
from qa_scoring.conversation import Conversation
from qa_scoring.i18n import label, msg
from qa_scoring.policy import Product, ShopPolicy

Fact = Literal["return_window", "exchange_window", "warranty", "dispatch", "free_shipping", "price"]
FACTS: tuple[Fact, ...] = (
    "return_window",
    "exchange_window",
    "warranty",
    "dispatch",
    "free_shipping",
    "price",
)
Unit = Literal["days", "months", "hours", "money"]
UNITS: dict[Fact, Unit] = {
    "return_window": "days",
    "exchange_window": "days",
    "warranty": "months",
    "dispatch": "hours",
    "free_shipping": "money",
    "price": "money",
}
POLICY_FIELDS: dict[Fact, str] = {
    "return_window": "return_window_days",
    "exchange_window": "exchange_window_days",
    "warranty": "warranty_months",
    "dispatch": "dispatch_hours",
    "free_shipping": "free_shipping_over",
}

# ---- numbers ---------------------------------------------------------------------------------
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4}
_CN_DIGITS |= {"五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_EN_NUMBERS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fourteen": 14,
    "fifteen": 15,
    "twenty": 20,
    "twenty-four": 24,
    "thirty": 30,
    "forty-eight": 48,
    "seventy-two": 72,
}
_DIGITS = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_EN_WORDS = "|".join(sorted(_EN_NUMBERS, key=len, reverse=True))
_N = rf"(?P<n>{_DIGITS}|[零〇一二两三四五六七八九十百]+|半|\b(?:{_EN_WORDS})\b)"


def chinese_number(text: str) -> float:
    """Small Chinese numerals: 七 → 7, 十五 → 15, 二十四 → 24, 一百零五 → 105, 半 → 0.5."""
    if text == "半":
        return 0.5
    total, digit = 0, 0
    for ch in text:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        else:  # 十 or 百; a bare 十 means 10
            total += (digit or 1) * (10 if ch == "十" else 100)
            digit = 0
    return float(total + digit)


def parse_number(text: str) -> float:
    if text[0].isdigit():
        return float(text.replace(",", ""))
    return float(_EN_NUMBERS[text.lower()]) if text.isascii() else chinese_number(text)


# ---- claim patterns --------------------------------------------------------------------------
# Between a number and its keyword: same clause, and never across another number.
_GAP = r"[^，,。.！!？?；;\n\d零〇一二两三四五六七八九十百]"
_FACTORS: dict[Unit, dict[str, float]] = {
    "days": {"天": 1, "日": 1, "周": 7, "day": 1, "week": 7},
    "months": {"年": 12, "个月": 1, "year": 12, "month": 1},
    "hours": {"小时": 1, "天": 24, "日": 24, "hour": 1, "day": 24},
    "money": {},
}
_DAY = r"(?P<u>天|日|周)"
_DAY_EN = r"(?P<u>days?|weeks?)"
_EN_WITHIN = r"[^.;!?\n]{0,30}?\b(?:within|in|for|up to)\s+"
_PATTERNS: list[tuple[Fact, str]] = [
    ("return_window", rf"{_N}\s*个?{_DAY}{_GAP}{{0,8}}?(?:无理由(?:退换?货?)?|退(?!款)换?货?)"),
    ("return_window", rf"退货(?:期限|时效|期|时间)?(?:是|为|有|只有)?\s*{_N}\s*{_DAY}"),
    ("return_window", rf"\b{_N}[- ]{_DAY_EN}\s+(?:no[- ]reason\s+|free\s+)?returns?\b"),
    ("return_window", rf"\breturn(?:s|ed)?\b{_EN_WITHIN}{_N}\s+{_DAY_EN}"),
    ("exchange_window", rf"{_N}\s*个?{_DAY}{_GAP}{{0,8}}?(?<!退)换(?:货|码|色)?"),
    ("exchange_window", rf"换货(?:期限|时效|期|时间)?(?:是|为|有|只有)?\s*{_N}\s*{_DAY}"),
    ("exchange_window", rf"\b{_N}[- ]{_DAY_EN}\s+exchanges?\b"),
    ("exchange_window", rf"\bexchange(?:s|d)?\b{_EN_WITHIN}{_N}\s+{_DAY_EN}"),
    ("warranty", rf"(?:保修|质保|联保)期?{_GAP}{{0,4}}?{_N}\s*(?P<u>年|个月)"),
    ("warranty", rf"{_N}\s*(?P<u>年|个月)的?(?:保修|质保|联保)"),
    ("warranty", rf"\b{_N}[- ](?P<u>years?|months?)\s+(?:(?:limited|full)\s+)?warranty\b"),
    ("warranty", rf"\bwarranty\b[^.;!?\n]{{0,20}}?\b{_N}\s+(?P<u>years?|months?)\b"),
    (
        "dispatch",
        rf"{_N}\s*个?(?P<u>小时|天|日)(?:内|以内|之内)?{_GAP}{{0,6}}?(?:发货|发出|寄出|出库)",
    ),
    ("dispatch", rf"(?:发货|发出)(?:时间|时效)(?:是|为|在)?\s*{_N}\s*个?(?P<u>小时|天)"),
    (
        "dispatch",
        rf"\b(?:ships?|shipped|dispatch(?:es|ed)?|sent out|goes out)\s+within\s+{_N}\s+"
        r"(?P<u>hours?|days?)\b",
    ),
    ("dispatch", rf"\b{_N}[- ](?P<u>hours?)\s+(?:dispatch|shipping)\b"),
    (
        "free_shipping",
        rf"满\s*[¥￥]?\s*{_N}\s*(?:元|块)?\s*(?:就|即|才|可以|可)?(?:包邮|免运费|免邮)",
    ),
    ("free_shipping", r"(?:全场|全店|全部商品|所有商品)都?(?:包邮|免运费|免邮)"),
    (
        "free_shipping",
        rf"\bfree\s+(?:shipping|delivery)\s+(?:on|for)\s+(?:all\s+)?orders?\s+"
        rf"(?:over|above|from)\s+[$¥￥]?\s*{_N}",
    ),
    ("free_shipping", rf"\borders?\s+(?:over|above|from)\s+[$¥￥]?\s*{_N}\s+(?:ship|get)\s+free\b"),
    ("free_shipping", r"\bfree\s+(?:shipping|delivery)\s+on\s+(?:all|every)\s+orders?\b"),
    ("free_shipping", r"\ball\s+orders\s+ship\s+free\b"),
]
_COMPILED = [(fact, re.compile(p, re.IGNORECASE)) for fact, p in _PATTERNS]

_PRICE = re.compile(
    rf"(?:[¥￥$]|\b(?:RMB|CNY)\s?)\s*(?P<a>{_DIGITS})|(?P<b>{_DIGITS})\s*(?:元|块钱|块|yuan\b|RMB\b)",
    re.IGNORECASE,
)
# An amount right after these is a discount, total, refund or threshold, not a list price.
_NOT_PRICE_BEFORE = re.compile(
    r"(?:满|减|优惠|便宜|省|返|差价|补偿|运费|邮费|券|定金|抵|退款|退|到手|活动价|券后|折后|尾款"
    r"|一共|一起是|共|合计|总计|总共|=|over|above|save|off|refund of|total of|coupon)"
    r"\s*(?:了|是)?\s*$",
    re.IGNORECASE,
)
_NOT_PRICE_AFTER = re.compile(
    r"^\s*(?:off\b|coupon|券|无门槛|优惠|红包|补偿|运费|邮费|的券)", re.IGNORECASE
)
_SENTENCE = re.compile(r"(?:[^。！!？?；;\n.]|\.(?=\S))+")


@dataclass(frozen=True)
class Claim:
    """A fact an agent stated: ``value`` is in the policy's unit (days, months, hours, money)."""

    fact: Fact
    start: int
    end: int
    value: float
    product: Product | None = None


def _unit_factor(unit: Unit, word: str | None) -> float:
    if word is None:
        return 1.0
    return _FACTORS[unit][word.lower().removesuffix("s")]


def _stated_facts(text: str, facts: set[Fact]) -> list[Claim]:
    claims: list[Claim] = []
    for fact, pattern in _COMPILED:
        if fact not in facts:
            continue
        for m in pattern.finditer(text):
            if any(c.fact == fact and m.start() < c.end and c.start < m.end() for c in claims):
                continue  # two phrasings of one claim
            n = m.groupdict().get("n")
            value = (
                parse_number(n) * _unit_factor(UNITS[fact], m.groupdict().get("u")) if n else 0.0
            )
            claims.append(Claim(fact, m.start(), m.end(), value))
    return claims


@lru_cache(maxsize=256)
def _phrase_finder(phrases: tuple[str, ...]) -> KeywordCheck:
    """One automaton per shop's product names and SKUs, built once, not per conversation."""
    return KeywordCheck(KeywordParams(phrases=list(phrases)), "policy.products")


def _product_mentions(text: str, policy: ShopPolicy) -> list[tuple[int, int, Product]]:
    by_phrase = {
        phrase: p for p in policy.products for phrase in (p.sku, *p.name.values()) if phrase.strip()
    }
    return [(s, e, by_phrase[ph]) for s, e, ph in _phrase_finder(tuple(by_phrase)).find(text)]


def _prices(text: str, start: int, end: int) -> list[tuple[int, int, float]]:
    out = []
    for m in _PRICE.finditer(text, start, end):
        before, after = text[max(start, m.start() - 6) : m.start()], text[m.end() : end]
        if _NOT_PRICE_BEFORE.search(before) or _NOT_PRICE_AFTER.search(after):
            continue
        out.append((m.start(), m.end(), parse_number(m.group("a") or m.group("b"))))
    return out


def _price_claims(text: str, policy: ShopPolicy) -> list[Claim]:
    """Pair each price with the nearest product mention in its sentence, one to one, so that
    "大衣899元，羽绒服399元" does not read 399 as the coat's price."""
    if not policy.products:
        return []
    mentions = _product_mentions(text, policy)
    claims: list[Claim] = []
    for sentence in _SENTENCE.finditer(text):
        s0, s1 = sentence.span()
        named = [m for m in mentions if s0 <= m[0] and m[1] <= s1]
        prices = [
            p for p in _prices(text, s0, s1) if not any(p[0] < e and s < p[1] for s, e, _ in named)
        ]
        pairs = sorted(
            (max(ps - me, ms - pe, 0), ms > ps, pi, mi)
            for pi, (ps, pe, _) in enumerate(prices)
            for mi, (ms, me, _) in enumerate(named)
        )
        used_p: set[int] = set()
        used_m: set[int] = set()
        for _, _, pi, mi in pairs:
            if pi in used_p or mi in used_m:
                continue
            used_p.add(pi)
            used_m.add(mi)
            (ps, pe, amount), (ms, me, product) = prices[pi], named[mi]
            claims.append(Claim("price", min(ps, ms), max(pe, me), amount, product))
    return claims


def find_claims(text: str, policy: ShopPolicy, facts: tuple[Fact, ...] = FACTS) -> list[Claim]:
    """Every policy claim in ``text`` about ``facts``, in text order."""
    claims = _stated_facts(text, set(facts))
    if "price" in facts:
        claims += _price_claims(text, policy)
    return sorted(claims, key=lambda c: (c.start, c.end))


class PolicyFactsParams(Params):
    facts: list[Fact] = Field(default=list(FACTS), min_length=1)
    tolerance: float = Field(default=0.0, ge=0, description="allowed price difference")


@register("policy_facts")
class PolicyFactsCheck(Check):
    """Share of the agent's policy claims that match the shop's policy (N/A without either).

    A claim about a fact the policy leaves out is not counted: there is nothing to ground it.
    """

    Params = PolicyFactsParams

    def evaluate(self, conversation: Conversation, context: Context) -> CheckResult:
        lang = conversation.language
        if context.policy is None:
            shop = conversation.metadata.get("shop", "—")
            return CheckResult(None, self.source, detail=msg("no_policy", lang, shop=shop))
        policy = ShopPolicy.model_validate(context.policy)
        facts = tuple(self.params.facts)  # type: ignore[attr-defined]
        right: list[Evidence] = []
        wrong: list[Evidence] = []
        for i in conversation.agent_turn_indices:
            text = conversation.turns[i].text
            for claim in find_claims(text, policy, facts):
                truth = _truth(claim, policy)
                if truth is None:
                    continue
                ok = abs(claim.value - truth) <= self._tolerance(claim)
                note = _note(claim, truth, ok, policy.shop, lang)
                span = Evidence(i, claim.start, claim.end, text[claim.start : claim.end], note)
                (right if ok else wrong).append(span)
        if not right and not wrong:
            return CheckResult(None, self.source, detail=msg("no_claim", lang))
        return CheckResult(
            len(right) / (len(right) + len(wrong)),
            self.source,
            evidence=tuple(wrong),
            hits=tuple(right),
            detail="; ".join(e.note for e in wrong),
        )

    def _tolerance(self, claim: Claim) -> float:
        return self.params.tolerance if claim.fact == "price" else 1e-9  # type: ignore[attr-defined]


def _truth(claim: Claim, policy: ShopPolicy) -> float | None:
    """What the policy says about the claim's fact (None: the shop does not say)."""
    if claim.product is not None:
        return claim.product.price
    return getattr(policy, POLICY_FIELDS[claim.fact])


def _note(claim: Claim, truth: float, ok: bool, shop: str, lang: str | None) -> str:
    key = "policy_right" if ok else "policy_wrong"
    return msg(key, lang, said=_said(claim, lang), rule=_rule(claim, truth, lang), shop=shop)


def _num(value: float) -> str:
    return f"{value:g}"


def _said(claim: Claim, lang: str | None) -> str:
    if claim.fact == "free_shipping" and claim.value == 0:
        return msg("policy_free_shipping_all", lang)
    return msg(f"unit_{UNITS[claim.fact]}", lang, n=_num(claim.value))


def _rule(claim: Claim, truth: float, lang: str | None) -> str:
    if claim.product is not None:
        p = claim.product
        return msg("policy_price", lang, sku=p.sku, name=label(p.name, lang), value=_num(truth))
    if claim.fact == "free_shipping" and truth == 0:
        return msg("policy_free_shipping_all", lang)
    return msg(f"policy_{claim.fact}", lang, value=_num(truth))
