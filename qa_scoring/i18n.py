"""Messages shown to QA leads (evidence notes, report lines) in zh and en.

Checks render notes in the conversation's language, so a reviewer reads the reason in the
language of the chat they are reviewing.
"""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "expected_any": {"en": "expected one of: {phrases}", "zh": "应包含其一：{phrases}"},
    "expected_all": {"en": "missing: {phrases}", "zh": "缺少：{phrases}"},
    "found": {"en": "found “{text}”", "zh": "出现“{text}”"},
    "model_below": {
        "en": "{head} {p:.2f} below {threshold:.2f}",
        "zh": "{head} 得分 {p:.2f} 低于 {threshold:.2f}",
    },
    "model_above": {
        "en": "{head} {p:.2f} above {threshold:.2f}",
        "zh": "{head} 得分 {p:.2f} 高于 {threshold:.2f}",
    },
    "missing_step": {"en": "missing step: {step}", "zh": "缺少环节：{step}"},
    "step_out_of_order": {"en": "step came too late: {step}", "zh": "环节顺序不当：{step}"},
    "head_unavailable": {"en": "model head {head} is not available", "zh": "模型 {head} 不可用"},
    "no_trigger": {"en": "not applicable: trigger not found", "zh": "不适用：未出现触发条件"},
    # response_time
    "late_reply": {
        "en": "replied after {waited} (limit {limit})",
        "zh": "等待{waited}后回复（上限{limit}）",
    },
    "late_reply_no_apology": {
        "en": "replied after {waited} without apologising for the wait (limit {limit})",
        "zh": "等待{waited}后回复，未致歉（上限{limit}）",
    },
    "no_reply_to_time": {
        "en": "not applicable: no agent reply to a customer",
        "zh": "不适用：没有客服回复客户",
    },
    "no_timestamps": {"en": "not applicable: timestamps missing", "zh": "不适用：缺少时间戳"},
    "no_long_wait": {
        "en": "not applicable: no reply took longer than the limit",
        "zh": "不适用：没有超时回复",
    },
    # pii
    "pii_phone": {"en": "mobile number", "zh": "手机号"},
    "pii_id_card": {"en": "ID card number", "zh": "身份证号"},
    "pii_bank_card": {"en": "bank card number", "zh": "银行卡号"},
    "pii_email": {"en": "email address", "zh": "邮箱"},
    "pii_address": {"en": "street address", "zh": "详细地址"},
    "pii_reveal": {
        "en": "reveals a {kind} the customer did not give",
        "zh": "泄露客户未提供的{kind}",
    },
    "pii_ask": {"en": "asks the customer for “{text}”", "zh": "向客户索要“{text}”"},
    "no_agent_turn": {"en": "not applicable: no agent turn", "zh": "不适用：没有客服发言"},
    # policy_facts
    "unit_days": {"en": "{n} days", "zh": "{n}天"},
    "unit_months": {"en": "{n} months", "zh": "{n}个月"},
    "unit_hours": {"en": "{n} hours", "zh": "{n}小时"},
    "unit_money": {"en": "{n}", "zh": "{n}元"},
    "policy_return_window": {"en": "return_window_days = {value}", "zh": "{value} 天无理由退货"},
    "policy_exchange_window": {"en": "exchange_window_days = {value}", "zh": "{value} 天换货"},
    "policy_warranty": {"en": "warranty_months = {value}", "zh": "保修 {value} 个月"},
    "policy_dispatch": {"en": "dispatch_hours = {value}", "zh": "{value} 小时内发货"},
    "policy_free_shipping": {"en": "free_shipping_over = {value}", "zh": "满 {value} 元包邮"},
    "policy_free_shipping_all": {"en": "free_shipping_over = 0 (all orders)", "zh": "全场包邮"},
    "policy_price": {"en": "price of {sku} = {value}", "zh": "{name} 售价 {value} 元"},
    "policy_wrong": {
        "en": "said {said}; policy {rule} ({shop})",
        "zh": "称{said}；店铺政策 {rule}",
    },
    "policy_right": {
        "en": "said {said}; matches policy {rule} ({shop})",
        "zh": "称{said}；符合店铺政策 {rule}",
    },
    "no_policy": {
        "en": "not applicable: no policy for shop {shop}",
        "zh": "不适用：没有店铺 {shop} 的政策",
    },
    "no_claim": {"en": "not applicable: no policy fact quoted", "zh": "不适用：未提及店铺政策"},
}


def msg(key: str, language: str | None, **params: object) -> str:
    """Render message ``key`` in ``language`` (zh or en; anything else falls back to en)."""
    templates = MESSAGES[key]
    return templates.get(language or "en", templates["en"]).format(**params)


def label(names: dict[str, str] | str, language: str | None) -> str:
    """Pick the zh or en label of a rubric name, falling back to whichever exists."""
    if isinstance(names, str):
        return names
    return names.get(language or "en") or names.get("en") or next(iter(names.values()), "")
