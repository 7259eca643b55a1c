import pytest

from qa_scoring.checks import CheckResult
from qa_scoring.rubric import ReviewPolicy, parse_rubric
from qa_scoring.scoring import CriterionResult, Signals, flags_for, tally

RUBRIC = parse_rubric(
    {
        "id": "t",
        "version": "1",
        "name": {"en": "t"},
        "pass_mark": 80,
        "dimensions": [
            {"id": "attitude", "name": {"zh": "服务态度"}},
            {"id": "compliance", "name": {"en": "Compliance"}},
            {"id": "empathy", "name": {"en": "Empathy"}},
        ],
        "criteria": [
            {
                "id": "greet",
                "dimension": "attitude",
                "name": {"en": "g"},
                "points": 10,
                "check": {"type": "keyword", "phrases": ["hi"]},
            },
            {
                "id": "polite",
                "dimension": "attitude",
                "name": {"en": "p"},
                "points": 30,
                "check": {"type": "keyword", "phrases": ["please"]},
            },
            {
                "id": "abuse",
                "dimension": "compliance",
                "name": {"en": "a"},
                "points": 10,
                "critical": True,
                "check": {"type": "keyword", "mode": "none", "phrases": ["idiot"]},
            },
            {
                "id": "sorry",
                "dimension": "empathy",
                "name": {"en": "s"},
                "points": 20,
                "check": {"type": "keyword", "phrases": ["sorry"]},
            },
        ],
    }
)


def results(greet, polite, abuse, sorry, confidence=1.0):
    scores = {"greet": greet, "polite": polite, "abuse": abuse, "sorry": sorry}
    return [
        CriterionResult(
            c.id,
            c.dimension,
            c.points,
            c.critical,
            CheckResult(scores[c.id], "rule:test", confidence=confidence),
        )
        for c in RUBRIC.spec.criteria
    ]


def test_points_dimensions_and_overall():
    t = tally(RUBRIC, results(1.0, 0.5, 1.0, 1.0))
    assert t.dimensions == {"attitude": pytest.approx(62.5), "compliance": 100.0, "empathy": 100.0}
    assert t.overall == pytest.approx(100 * (10 + 15 + 10 + 20) / 70, abs=0.01)
    assert not t.auto_failed and not t.passed  # 78.57 < 80


def test_not_applicable_never_costs_points():
    t = tally(RUBRIC, results(1.0, 1.0, 1.0, None))
    assert t.dimensions["empathy"] is None
    assert t.overall == 100.0 and t.passed


def test_critical_failure_zeroes_the_conversation():
    t = tally(RUBRIC, results(1.0, 1.0, 0.0, 1.0))
    assert t.auto_failed and t.overall == 0.0 and not t.passed


def test_flags():
    policy = ReviewPolicy()
    r = results(1.0, 0.0, 1.0, 1.0, confidence=0.3)
    t = tally(RUBRIC, r)
    flags = flags_for(policy, 80, t, r, Signals(csat=1, longest_gap_s=600))
    assert {"below_pass_mark", "low_confidence", "customer_unhappy", "long_wait"} <= set(flags)
    ok = results(1.0, 1.0, 1.0, 1.0)
    assert flags_for(policy, 80, tally(RUBRIC, ok), ok, Signals(csat=5, satisfaction=0.9)) == []
    borderline = results(1.0, 1.0, 1.0, 0.0)  # 50/70 = 71.4, not within 5 of 80
    assert "borderline" not in flags_for(
        policy, 80, tally(RUBRIC, borderline), borderline, Signals()
    )
    near = results(0.0, 1.0, 1.0, 1.0)  # 60/70 = 85.7 within... no: band 5 → 75..85
    assert "borderline" not in flags_for(policy, 80, tally(RUBRIC, near), near, Signals())
    edge = results(1.0, 0.8, 1.0, 1.0)  # 64/70 = 91.4
    assert flags_for(
        ReviewPolicy(borderline_band=12), 80, tally(RUBRIC, edge), edge, Signals()
    ) == ["borderline"]


def test_rubric_validation_names_fields():
    from qa_scoring.errors import RubricError

    bad = RUBRIC.spec.model_dump()
    bad["criteria"][0]["dimension"] = "speed"
    bad["criteria"][1]["check"] = {"type": "keyword"}
    with pytest.raises(RubricError) as err:
        parse_rubric(bad, "bad.yaml")
    assert "unknown dimension 'speed'" in str(err.value)
    bad["criteria"][0]["dimension"] = "attitude"
    with pytest.raises(RubricError) as err:
        parse_rubric(bad, "bad.yaml")
    assert "criteria[1].check.phrases" in str(err.value)


def test_conversation_without_agent_reply_goes_to_review():
    from qa_scoring.classify.lexical import LexicalFallback
    from qa_scoring.engine import build_scorer
    from tests.factories import conversation

    missed = conversation(
        [
            ("customer", "在吗？我的订单怎么还没发货", 0),
            ("bot", "您好，客服正在赶来的路上，请稍候", 2),
        ]
    )
    score = build_scorer(classifier=LexicalFallback()).score(missed)
    assert "no_agent_reply" in score.flags and score.needs_review
