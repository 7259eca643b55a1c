"""Every registered check type passes the same invariants (the scikit-learn 'common tests'
idea): scores in [0, 1] or N/A, evidence and hits are real spans of the turn text, N/A never
carries evidence, and failing results say where."""

import pytest

from qa_scoring.checks import CHECKS, Context, build_check
from qa_scoring.classify.base import Predictions
from qa_scoring.config import get_settings
from qa_scoring.parsing import read_conversations
from qa_scoring.policy import load_policies

UPSET = {"type": "keyword", "phrases": ["投诉", "失望", "差评", "complaint", "broken"],
         "scope": {"role": "customer"}}
EXAMPLES = {
    "keyword": {"type": "keyword", "phrases": ["亲", "您好", "hello"]},
    "regex": {"type": "regex", "patterns": [r"\d+天"]},
    "model": {"type": "model", "head": "politeness"},
    "response_time": {"type": "response_time", "measure": "every_reply", "max_seconds": 60},
    "pii": {"type": "pii"},
    "policy_facts": {"type": "policy_facts"},
    "all": {"type": "all", "checks": [{"type": "keyword", "phrases": ["抱歉"]},
                                      {"type": "model", "head": "empathy"}]},
    "any": {"type": "any", "checks": [{"type": "keyword", "phrases": ["抱歉", "sorry"]},
                                      {"type": "regex", "patterns": ["久等"]}]},
    "not": {"type": "not", "check": {"type": "keyword", "phrases": ["不知道", "随便"]}},
    "sequence": {"type": "sequence", "trigger": UPSET, "steps": [
        {"name": "apologise", "check": {"type": "keyword", "phrases": ["抱歉", "sorry"]}},
        {"name": "solution", "check": {"type": "keyword", "phrases": ["退款", "补发", "refund"]}},
    ]},
}
CONVERSATIONS = [c for c in read_conversations(get_settings().examples_dir / "conversations.jsonl")]
POLICIES = {k: v.model_dump() for k, v in load_policies(get_settings().policies_dir).items()}


def test_every_registered_type_has_a_contract_example():
    assert set(EXAMPLES) == set(CHECKS)


def _context(conv):
    turns = {i: {"politeness": 0.3 + 0.1 * (i % 7), "empathy": 0.6}
             for i in conv.agent_turn_indices}
    return Context(Predictions(turns=turns, versions={"politeness": "t", "empathy": "t"}),
                   POLICIES.get(conv.metadata.get("shop")))


@pytest.mark.parametrize("type_name", sorted(EXAMPLES))
def test_check_contract(type_name):
    check = build_check(EXAMPLES[type_name], "criteria[0].check")
    applicable = 0
    for conv in CONVERSATIONS:
        r = check.evaluate(conv, _context(conv))
        assert r.score is None or 0.0 <= r.score <= 1.0
        assert 0.0 <= r.confidence <= 1.0 and r.source
        if r.score is None:
            assert not r.evidence
            continue
        applicable += 1
        if r.score < 1.0:
            assert r.evidence, f"{type_name} lost points on {conv.id} without evidence"
        for e in (*r.evidence, *r.hits):
            text = conv.turns[e.turn].text
            assert 0 <= e.start <= e.end <= len(text)
            assert text[e.start:e.end] == e.text
    assert applicable, f"{type_name} never applied to the examples"
