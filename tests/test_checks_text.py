import pytest

from qa_scoring.checks import Context, build_check
from qa_scoring.errors import RubricError
from tests.factories import BROKEN_LAMP, RUDE_AGENT, conversation


def run(spec, conv, context=None):
    return build_check(spec, "criteria[0].check").evaluate(conv, context or Context())


def test_keyword_any_in_first_agent_turn_passes_with_hit_span():
    r = run(
        {"type": "keyword", "phrases": ["您好", "亲"], "scope": {"position": "first"}}, BROKEN_LAMP
    )
    assert r.passed and r.score == 1.0
    assert {h.text for h in r.hits} == {"您好", "亲"}
    for h in r.hits:
        assert BROKEN_LAMP.turns[h.turn].text[h.start : h.end] == h.text


def test_keyword_any_missing_points_at_the_turn_where_it_was_due():
    r = run(
        {"type": "keyword", "phrases": ["您好", "亲"], "scope": {"position": "first"}}, RUDE_AGENT
    )
    assert r.passed is False and r.score == 0.0
    (e,) = r.evidence
    assert e.turn == 1 and "应包含其一" in e.note and e.text == RUDE_AGENT.turns[1].text


def test_keyword_none_reports_every_forbidden_phrase():
    r = run({"type": "keyword", "mode": "none", "phrases": ["不归我管", "随便你"]}, RUDE_AGENT)
    assert r.score == 0.0
    assert [(e.turn, e.text) for e in r.evidence] == [(1, "不归我管"), (3, "随便你")]


def test_keyword_all_gives_partial_credit():
    r = run({"type": "keyword", "mode": "all", "phrases": ["抱歉", "照片", "退款"]}, BROKEN_LAMP)
    assert r.score == pytest.approx(2 / 3)
    assert "退款" in r.evidence[0].note


def test_latin_phrases_respect_word_boundaries_but_cjk_do_not():
    conv = conversation(
        [("customer", "where is this parcel"), ("agent", "This is shipping")], language="en"
    )
    assert run({"type": "keyword", "phrases": ["hi"]}, conv).score == 0.0
    assert run({"type": "keyword", "phrases": ["THIS"]}, conv).score == 1.0
    assert run({"type": "keyword", "phrases": ["查一下"]}, BROKEN_LAMP).score == 1.0


def test_scope_after_trigger_and_not_applicable_without_trigger():
    spec = {
        "type": "keyword",
        "phrases": ["抱歉"],
        "scope": {
            "role": "agent",
            "within": 1,
            "after": {
                "type": "keyword",
                "phrases": ["投诉", "失望"],
                "scope": {"role": "customer"},
            },
        },
    }
    assert run(spec, BROKEN_LAMP).passed
    failed = run(spec, RUDE_AGENT)
    assert failed.passed is False and failed.evidence[0].turn == 3
    calm = conversation([("customer", "这款有白色吗"), ("agent", "亲，有的")])
    assert run(spec, calm).score is None


def test_regex_finds_spans_and_rejects_bad_patterns():
    r = run({"type": "regex", "patterns": [r"\d{2}小时内"]}, BROKEN_LAMP)
    assert r.passed and r.hits[0].text == "48小时内"
    with pytest.raises(RubricError) as err:
        build_check({"type": "regex", "patterns": ["(unclosed"]}, "criteria[2].check")
    assert "criteria[2].check.patterns" in str(err.value)


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"type": "keyword"}, "criteria[0].check.phrases"),
        ({"type": "keyword", "phrases": ["a"], "mode": "some"}, "criteria[0].check.mode"),
        ({"type": "keyword", "phrases": ["a"], "colour": 1}, "criteria[0].check.colour"),
        ({"type": "nope"}, "criteria[0].check.type"),
        (
            {"type": "keyword", "phrases": ["a"], "scope": {"role": "boss"}},
            "criteria[0].check.scope.role",
        ),
    ],
)
def test_bad_specs_name_the_field(spec, field):
    with pytest.raises(RubricError) as err:
        build_check(spec, "criteria[0].check")
    assert field in str(err.value)
