import pytest

from qa_scoring.checks import Context, build_check
from qa_scoring.classify.base import Predictions
from tests.factories import BROKEN_LAMP, RUDE_AGENT

UPSET = {"type": "keyword", "phrases": ["投诉", "失望", "怎么还没"], "scope": {"role": "customer"}}
APOLOGY = {"type": "keyword", "phrases": ["抱歉", "对不起"]}


def run(spec, conv, context=None):
    return build_check(spec, "c").evaluate(conv, context or Context())


def test_all_any_not():
    forbidden = {"type": "keyword", "phrases": ["随便你"]}
    assert run(
        {"type": "all", "checks": [APOLOGY, {"type": "not", "check": forbidden}]}, BROKEN_LAMP
    ).passed
    r = run({"type": "all", "checks": [APOLOGY, {"type": "not", "check": forbidden}]}, RUDE_AGENT)
    assert r.score == 0.0 and {e.text for e in r.evidence} >= {"随便你"}
    assert run({"type": "any", "checks": [APOLOGY, forbidden]}, RUDE_AGENT).passed


def test_customer_upset_and_no_apology_within_two_turns_composes():
    rule = {
        "type": "not",
        "check": {
            "type": "all",
            "checks": [
                UPSET,
                {
                    "type": "keyword",
                    "mode": "none",
                    "phrases": ["抱歉", "对不起"],
                    "scope": {"role": "agent", "within": 2, "after": UPSET},
                },
            ],
        },
    }
    assert run(rule, BROKEN_LAMP).passed
    bad = run(rule, RUDE_AGENT)
    assert bad.passed is False and bad.evidence


def test_sequence_complaint_flow_scores_share_of_steps_in_order():
    flow = {
        "type": "sequence",
        "trigger": UPSET,
        "steps": [
            {"name": {"zh": "致歉", "en": "apologise"}, "check": APOLOGY},
            {
                "name": {"zh": "了解情况", "en": "gather facts"},
                "check": {"type": "keyword", "phrases": ["照片", "订单号"]},
            },
            {
                "name": {"zh": "给出方案", "en": "solution"},
                "check": {"type": "keyword", "phrases": ["补发", "退款"]},
            },
            {
                "name": {"zh": "确认满意", "en": "confirm"},
                "check": {"type": "keyword", "phrases": ["您看可以吗"]},
            },
        ],
    }
    assert run(flow, BROKEN_LAMP).score == 1.0
    rude = run(flow, RUDE_AGENT)
    assert rude.score == 0.0 and len(rude.evidence) == 4
    assert "缺少环节：致歉" in rude.evidence[0].note


def test_sequence_without_trigger_is_not_applicable():
    calm_flow = {
        "type": "sequence",
        "trigger": {"type": "keyword", "phrases": ["12315"]},
        "steps": [{"name": "x", "check": APOLOGY}],
    }
    assert run(calm_flow, BROKEN_LAMP).score is None


def _preds(turn_p, conv_p=None, is_model=True):
    return Context(
        Predictions(
            conversation=conv_p or {},
            turns=turn_p,
            versions={"politeness": "1.0", "resolution": "1.0"},
            is_model=is_model,
        )
    )


def test_model_check_all_gives_share_and_evidence_on_bad_turns():
    ctx = _preds(
        {
            1: {"politeness": 0.9},
            3: {"politeness": 0.2},
            5: {"politeness": 0.8},
            7: {"politeness": 0.95},
        }
    )
    r = run({"type": "model", "head": "politeness", "threshold": 0.5}, BROKEN_LAMP, ctx)
    assert r.score == pytest.approx(0.75)
    assert [e.turn for e in r.evidence] == [3] and "0.20" in r.evidence[0].note
    assert r.source == "model:politeness@1.0"


def test_model_check_conversation_head_and_missing_head_is_na():
    ctx = _preds({}, {"resolution": 0.3})
    r = run({"type": "model", "head": "resolution"}, BROKEN_LAMP, ctx)
    assert r.score == 0.0 and r.evidence[0].turn == len(BROKEN_LAMP.turns) - 1
    assert run({"type": "model", "head": "satisfaction"}, BROKEN_LAMP, ctx).score is None


def test_fallback_predictions_have_capped_confidence_and_say_so():
    ctx = _preds({1: {"politeness": 0.05}}, is_model=False)
    r = run(
        {"type": "model", "head": "politeness", "scope": {"position": "first"}}, BROKEN_LAMP, ctx
    )
    assert r.confidence <= 0.4 and r.source.startswith("fallback:lexical")


def test_sequence_skips_steps_that_cannot_apply():
    flow = {
        "type": "sequence",
        "trigger": UPSET,
        "steps": [
            {"name": "apologise", "check": APOLOGY},
            {"name": "empathy", "check": {"type": "model", "head": "empathy"}},  # head disabled
        ],
    }
    r = run(flow, BROKEN_LAMP, _preds({}))
    assert r.score == 1.0 and not r.evidence
