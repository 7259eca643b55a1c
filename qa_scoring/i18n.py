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
