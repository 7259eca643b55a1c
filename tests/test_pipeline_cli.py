"""End to end on the shipped examples: the pipeline, the `score`, `agents`, `rubric validate`
and `demo` commands on the embedded default (SQLite)."""

import json
from statistics import fmean

import pytest
from click.testing import CliRunner

from qa_scoring.classify.lexical import LexicalFallback
from qa_scoring.cli import main
from qa_scoring.config import get_settings
from qa_scoring.conversation import Conversation
from qa_scoring.engine import build_scorer
from qa_scoring.parsing import read_conversations

EXAMPLES = get_settings().examples_dir


@pytest.fixture(scope="module")
def examples() -> list[Conversation]:
    return [c for c in read_conversations(EXAMPLES / "conversations.jsonl")]


@pytest.fixture
def embedded(tmp_path, monkeypatch):
    monkeypatch.setenv("QA_SCORING_DATABASE_URL", f"sqlite:///{tmp_path / 'qa.sqlite3'}")
    monkeypatch.setenv("QA_SCORING_CLASSIFIER", "lexical")
    return tmp_path


def test_rules_separate_good_agents_from_bad(examples):
    scores = build_scorer(classifier=LexicalFallback()).score_many(examples)
    by_agent: dict[str, list[float]] = {}
    for s in scores:
        by_agent.setdefault(s.agent_id, []).append(s.overall)
        assert s.rubric["id"] == f"ecommerce-{s.language}"
        assert s.predictions["source"] == "lexical-fallback"
        for c in s.criteria:
            assert c.result.passed is not False or c.result.evidence
    assert fmean(by_agent["a-01"]) > fmean(by_agent["a-04"]) > fmean(by_agent["a-07"])
    failed = {
        (s.conversation_id, c.criterion)
        for s in scores
        for c in s.criteria
        if c.result.passed is False
    }
    assert ("zh-0005", "policy_facts") in failed  # 保修只有6个月, policy says 12
    assert ("zh-0024", "privacy") in failed  # reveals another customer's phone
    assert ("zh-0002", "forbidden_words") in failed  # 你自己看


def test_shipped_heads_serve_the_default_path(examples):
    scorer = build_scorer()
    assert scorer.classifier.is_model
    [score] = scorer.score_many([examples[0]])
    assert set(score.models) >= {"politeness", "empathy", "accuracy", "resolution"}
    assert set(score.predictions["conversation"]) >= {"resolution", "satisfaction"}
    agent_turns = {str(i) for i in examples[0].agent_turn_indices}
    assert set(score.predictions["turns"]) == agent_turns
    for probs in score.predictions["turns"].values():
        assert {"politeness", "empathy", "accuracy"} <= set(probs)
        assert all(0.0 <= p <= 1.0 for p in probs.values())
    sources = {c.result.source for c in score.criteria}
    assert any(s.startswith("model:politeness@") for s in sources)


def test_score_command_reports_bad_lines_and_scores_the_rest(embedded):
    out = embedded / "scores.jsonl"
    result = CliRunner().invoke(
        main, ["score", str(EXAMPLES / "malformed.jsonl"), "--output", str(out)]
    )
    assert result.exit_code == 1, result.output
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 6
    for s in lines:
        assert {
            "overall",
            "dimensions",
            "criteria",
            "flags",
            "needs_review",
            "metrics",
            "rubric",
            "predictions",
        } <= set(s)
    for fragment in (
        "line 3",
        "turns[3].role",
        "line 5",
        "agent_id",
        "turns[2].ts",
        "turns[3].text",
        "line 10",
        "not valid JSON",
    ):
        assert fragment in result.output


def test_rescoring_replaces_and_agents_reports(embedded):
    runner = CliRunner()
    csv_path = EXAMPLES / "helpdesk_export.csv"
    for _ in range(2):
        assert runner.invoke(main, ["score", str(csv_path)]).exit_code == 0
    result = runner.invoke(main, ["agents", "--period", "quarter", "--json"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert sum(r["count"] for r in rows) == 8  # 8 conversations, scored twice, stored once


def test_rubric_validate_names_the_bad_field(tmp_path):
    bad = tmp_path / "bad.yaml"
    text = (get_settings().rubrics_dir / "ecommerce-zh.yaml").read_text(encoding="utf-8")
    bad.write_text(
        text.replace("measure: first_response", "measure: first_reply"), encoding="utf-8"
    )
    runner = CliRunner()
    assert (
        runner.invoke(
            main, ["rubric", "validate", str(get_settings().rubrics_dir / "ecommerce-en.yaml")]
        ).exit_code
        == 0
    )
    result = runner.invoke(main, ["rubric", "validate", str(bad)])
    assert result.exit_code == 1 and "check.measure" in result.output


def test_demo_prints_flagged_evidence_and_evaluations(embedded):
    result = CliRunner().invoke(main, ["demo", "--lang", "en"])
    assert result.exit_code == 0, result.output
    for heading in (
        "Scoring summary",
        "Conversations flagged for review",
        "Agent evaluations",
        "Team evaluations",
        "Forbidden wording",
    ):
        assert heading in result.output
