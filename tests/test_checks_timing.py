import pytest

import qa_scoring.checks.timing  # noqa: F401  (registers response_time)
from qa_scoring.checks import Context, build_check
from qa_scoring.checks.timing import format_duration
from qa_scoring.errors import RubricError
from qa_scoring.metrics import ReplyGap, conversation_metrics, reply_gaps
from tests.factories import conversation

# Customer writes twice before the agent answers; a bot greets in between (not a response).
SLOW_ZH = conversation(
    [
        ("customer", "在吗？我的订单怎么还没发货", 0),
        ("bot", "您好，欢迎光临家居好物旗舰店，客服马上为您服务~", 1),
        ("customer", "都三天了", 40),
        ("agent", "亲，您好，我帮您查一下订单", 372),
        ("customer", "好的", 400),
        ("agent", "查到了，今天下午会发出", 430),
        ("customer", "能快点吗", 460),
        ("agent", "仓库已经在打包了，今天一定发出", 700),
    ],
    id="zh-slow",
)
APOLOGISED_ZH = conversation(
    [
        ("customer", "我想改一下收货地址", 0),
        ("agent", "不好意思让您久等了，请问要改成哪里？", 250),
        ("customer", "改到公司", 270),
        ("agent", "好的，已经帮您备注了", 290),
    ],
    id="zh-apologised",
)
SLOW_EN = conversation(
    [
        ("customer", "Hi, where is my parcel?", 0),
        ("agent", "Let me check that for you.", 372),
        ("customer", "Thanks", 380),
        ("agent", "Sorry for the wait! It left the warehouse this morning.", 700),
    ],
    id="en-slow",
    language="en",
)


def run(spec, conv):
    return build_check({"type": "response_time", **spec}, "criteria[0].check").evaluate(
        conv, Context()
    )


def assert_spans(conv, evidence):
    for e in evidence:
        assert conv.turns[e.turn].text[e.start : e.end] == e.text


def test_reply_gaps_time_from_first_unanswered_customer_turn_and_skip_bots():
    assert reply_gaps(SLOW_ZH) == [
        ReplyGap(0, 3, 372.0),
        ReplyGap(4, 5, 30.0),
        ReplyGap(6, 7, 240.0),
    ]


def test_conversation_metrics():
    assert conversation_metrics(SLOW_ZH) == {
        "turns": 8,
        "agent_turns": 3,
        "customer_turns": 4,
        "duration_s": 700.0,
        "first_response_s": 372.0,
        "avg_response_s": pytest.approx((372 + 30 + 240) / 3),
        "longest_gap_s": 372.0,
    }


def test_metrics_without_timestamps_are_none():
    conv = conversation([("customer", "在吗"), ("agent", "在的亲")])
    m = conversation_metrics(conv)
    assert (m["turns"], m["agent_turns"], m["customer_turns"]) == (2, 1, 1)
    assert all(m[k] is None for k in ("duration_s", "first_response_s", "avg_response_s"))
    assert m["longest_gap_s"] is None


def test_first_response_fails_with_whole_turn_evidence_and_zh_note():
    r = run({"measure": "first_response", "max_seconds": 180}, SLOW_ZH)
    assert r.score == 0.0 and r.passed is False
    (e,) = r.evidence
    assert e.turn == 3 and (e.start, e.end) == (0, len(SLOW_ZH.turns[3].text))
    assert e.note == "等待6分12秒后回复（上限3分钟）"
    assert_spans(SLOW_ZH, r.evidence)


def test_first_response_note_in_english():
    r = run({"measure": "first_response", "max_seconds": 180}, SLOW_EN)
    assert r.evidence[0].note == "replied after 6m12s (limit 3m)"


def test_first_response_falls_linearly_between_max_and_fail_seconds():
    r = run({"measure": "first_response", "max_seconds": 30, "fail_seconds": 630}, SLOW_ZH)
    assert r.score == pytest.approx((630 - 372) / 600)
    assert run({"measure": "first_response", "max_seconds": 400}, SLOW_ZH).passed


def test_every_reply_scores_the_share_on_time():
    r = run({"measure": "every_reply", "max_seconds": 60}, SLOW_ZH)
    assert r.score == pytest.approx(1 / 3)
    assert [e.turn for e in r.evidence] == [3, 7]
    assert [h.turn for h in r.hits] == [5]


def test_longest_gap_scores_the_worst_wait():
    r = run({"measure": "longest_gap", "max_seconds": 300}, SLOW_ZH)
    assert r.score == 0.0 and [e.turn for e in r.evidence] == [3]
    assert run({"measure": "longest_gap", "max_seconds": 400}, SLOW_ZH).passed


def test_wait_without_apology_scores_share_of_long_waits_apologised():
    spec = {"measure": "wait_without_apology", "max_seconds": 180}
    r = run(spec, SLOW_EN)
    assert r.score == pytest.approx(0.5)
    (e,) = r.evidence
    assert e.turn == 1 and e.note.startswith("replied after 6m12s without apologising")
    assert [(h.turn, h.text) for h in r.hits] == [(3, "Sorry for the wait")]
    assert_spans(SLOW_EN, r.hits)
    ok = run(spec, APOLOGISED_ZH)
    assert ok.passed and {h.text for h in ok.hits} == {"不好意思", "久等"}
    assert_spans(APOLOGISED_ZH, ok.hits)


def test_wait_without_apology_uses_configured_phrases():
    spec = {"measure": "wait_without_apology", "max_seconds": 180, "apology_phrases": ["久等"]}
    assert run(spec, SLOW_ZH).score == 0.0
    assert run(spec, APOLOGISED_ZH).passed


def test_not_applicable_without_timestamps_or_anything_to_measure():
    unstamped = conversation([("customer", "在吗"), ("agent", "在的亲")])
    for measure in ("first_response", "every_reply", "longest_gap", "wait_without_apology"):
        r = run({"measure": measure, "max_seconds": 60}, unstamped)
        assert r.score is None and "时间戳" in r.detail
    agent_only = conversation([("agent", "亲，您的包裹已发出", 0)])
    assert run({"measure": "first_response", "max_seconds": 30}, agent_only).score is None
    no_long_wait = run({"measure": "wait_without_apology", "max_seconds": 600}, SLOW_ZH)
    assert no_long_wait.score is None


def test_first_response_not_applicable_when_its_turns_lack_timestamps():
    conv = conversation(
        [
            ("customer", "在吗"),
            ("agent", "在的"),
            ("customer", "发货了吗", 60),
            ("agent", "发了", 90),
        ]
    )
    assert run({"measure": "first_response", "max_seconds": 30}, conv).score is None
    assert run({"measure": "every_reply", "max_seconds": 30}, conv).score == 1.0


@pytest.mark.parametrize(
    ("seconds", "zh", "en"),
    [
        (45, "45秒", "45s"),
        (180, "3分钟", "3m"),
        (372, "6分12秒", "6m12s"),
        (3900, "1小时5分钟", "1h5m"),
    ],
)
def test_format_duration(seconds, zh, en):
    assert format_duration(seconds, "zh") == zh
    assert format_duration(seconds, "en") == en


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"max_seconds": 60}, "criteria[0].check.measure"),
        ({"measure": "fastest", "max_seconds": 60}, "criteria[0].check.measure"),
        ({"measure": "first_response"}, "criteria[0].check.max_seconds"),
        ({"measure": "first_response", "max_seconds": 0}, "criteria[0].check.max_seconds"),
        (
            {"measure": "first_response", "max_seconds": 60, "fail_seconds": 30},
            "criteria[0].check.fail_seconds",
        ),
        (
            {"measure": "wait_without_apology", "max_seconds": 60, "fail_seconds": 90},
            "criteria[0].check.fail_seconds",
        ),
        (
            {"measure": "every_reply", "max_seconds": 60, "apology_phrases": ["抱歉"]},
            "criteria[0].check.apology_phrases",
        ),
        (
            {"measure": "wait_without_apology", "max_seconds": 60, "apology_phrases": [" "]},
            "criteria[0].check.apology_phrases[0]",
        ),
    ],
)
def test_bad_params_name_the_field(spec, field):
    with pytest.raises(RubricError) as err:
        build_check({"type": "response_time", **spec}, "criteria[0].check")
    assert field in str(err.value)
