"""Agent and team evaluations over plain rows: statistics, periods, trends, KPIs, config."""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml

from qa_scoring.evaluation import (
    EvaluationConfig,
    EvaluationConfigError,
    ScoreRow,
    _t975,
    evaluate,
    load_evaluation_config,
    mean_ci95,
    parse_evaluation_config,
)

CST = timezone(timedelta(hours=8))
MONDAY = datetime(2026, 11, 16, 10, 0, tzinfo=CST)  # ISO week 2026-W47
DIMS = {
    "attitude": 80.0,
    "empathy": 80.0,
    "compliance": 80.0,
    "accuracy": 80.0,
    "resolution": 80.0,
    "responsiveness": 80.0,
}


CONFIG = """
min_sample: 3
kpis:
  attitude: {name: {zh: 服务态度}, source: dimensions, dimensions: [attitude, empathy, compliance]}
  ability: {name: {zh: 专业能力}, source: dimensions, dimensions: [accuracy]}
  speed: {name: {zh: 响应速度}, source: dimensions, dimensions: [responsiveness]}
  satisfaction: {name: {zh: 客户满意度}, source: csat, dimensions: [resolution]}
  conversion: {name: {zh: 询单转化率}, source: conversion, teams: [pre-sale]}
weights:
  default: {attitude: 0.3, ability: 0.25, speed: 0.2, satisfaction: 0.25}
  teams:
    pre-sale: {attitude: 0.2, ability: 0.2, speed: 0.15, satisfaction: 0.15, conversion: 0.3}
"""


def config(**changes: Any) -> EvaluationConfig:
    return parse_evaluation_config(yaml.safe_load(CONFIG) | changes)


def row(
    overall: float = 80.0,
    at: datetime = MONDAY,
    agent: str = "a-01",
    team: str | None = "after-sales",
    *,
    passed: bool | None = None,
    auto_failed: bool = False,
    needs_review: bool = False,
    dimensions: dict[str, float | None] | None = None,
    csat: int | None = None,
    converted: bool | None = None,
) -> ScoreRow:
    return ScoreRow(
        agent_id=agent,
        team=team,
        started_at=at,
        overall=overall,
        passed=overall >= 80 if passed is None else passed,
        auto_failed=auto_failed,
        needs_review=needs_review,
        dimensions=DIMS if dimensions is None else dimensions,
        csat=csat,
        converted=converted,
    )


# ---- statistics --------------------------------------------------------------------------------


def test_mean_confidence_interval_and_rates_by_hand() -> None:
    rows = [
        row(80),
        row(90),
        row(70, needs_review=True),
        row(60, needs_review=True),
        row(0, auto_failed=True, passed=False, needs_review=True),
    ]
    [e] = evaluate(rows, "week", "agent", config())
    # mean 60; deviations 20, 30, 10, 0, -60 → s² = (400+900+100+0+3600)/4 = 1250
    se = math.sqrt(1250) / math.sqrt(5)  # 15.8114
    assert e.count == 5
    assert e.mean_overall == pytest.approx(60.0)
    assert e.ci_low == pytest.approx(60 - 2.7764 * se)  # t(0.975, 4) = 2.7764
    assert e.ci_high == pytest.approx(60 + 2.7764 * se)
    assert (e.pass_rate, e.auto_fail_rate, e.review_rate) == (0.4, 0.2, 0.6)
    assert (e.period_label, e.period_start) == ("2026-W47", date(2026, 11, 16))
    assert (e.agent_id, e.team, e.insufficient, e.rank) == ("a-01", "after-sales", False, 1)


def test_t_quantiles_are_exact_to_four_decimals() -> None:
    assert _t975(1) == 12.7062
    assert _t975(30) == 2.0423
    for df, exact in ((31, 2.0395), (40, 2.0211), (60, 2.0003), (120, 1.9799), (1000, 1.9623)):
        assert _t975(df) == pytest.approx(exact, abs=1e-4)
    assert _t975(10**7) == pytest.approx(1.95996, abs=1e-5)


def test_a_single_score_has_no_interval() -> None:
    assert mean_ci95([72.5]) == (72.5, None, None)
    low, high = mean_ci95([70, 70, 70])[1:]
    assert low == high == 70


def test_dimension_means_skip_not_applicable() -> None:
    rows = [
        row(dimensions={"attitude": 100.0, "responsiveness": None}),
        row(dimensions={"attitude": 50.0, "responsiveness": 40.0}),
    ]
    [e] = evaluate(rows, "month", "agent", config())
    assert e.dimensions == {"attitude": 75.0, "responsiveness": 40.0}


# ---- periods -----------------------------------------------------------------------------------


YEAR_END = [
    datetime(2026, 12, 31, 23, 30, tzinfo=CST),  # Thu of ISO week 2026-W53
    datetime(2027, 1, 1, 0, 30, tzinfo=CST),  # 2026-12-31 16:30 UTC: a new month and quarter
    datetime(2027, 1, 4, 0, 10, tzinfo=CST),  # Monday: ISO week 2027-W01
]


@pytest.mark.parametrize(
    ("period", "labels"),
    [
        ("week", ["2026-W53", "2026-W53", "2027-W01"]),
        ("month", ["2026-12", "2027-01", "2027-01"]),
        ("quarter", ["2026-Q4", "2027-Q1", "2027-Q1"]),
    ],
)
def test_periods_are_cut_in_shanghai_time(period: str, labels: list[str]) -> None:
    rows = [row(at=at, agent=f"a-{i}") for i, at in enumerate(YEAR_END)]
    got = {e.agent_id: e.period_label for e in evaluate(rows, period, "agent", config())}
    assert [got[f"a-{i}"] for i in range(3)] == labels


def test_period_starts_and_the_configured_zone() -> None:
    utc_first = row(at=datetime(2026, 3, 31, 17, 0, tzinfo=UTC))  # 04-01 01:00 in CST
    [shanghai] = evaluate([utc_first], "quarter", "agent", config())
    [own] = evaluate([utc_first], "quarter", "agent", config(timezone="conversation"))
    [utc] = evaluate([row(at=YEAR_END[1])], "month", "agent", config(timezone="UTC"))
    assert (shanghai.period_label, shanghai.period_start) == ("2026-Q2", date(2026, 4, 1))
    assert (own.period_label, own.period_start) == ("2026-Q1", date(2026, 1, 1))
    assert (utc.period_label, utc.period_start) == ("2026-12", date(2026, 12, 1))
    wall_clock = row(at=datetime(2026, 11, 22, 23, 59))  # naive: local time, not converted
    assert evaluate([wall_clock], "week", "agent", config())[0].period_label == "2026-W47"


def test_week_boundary_sunday_midnight() -> None:
    rows = [row(at=datetime(2026, 11, 22, 23, 59, tzinfo=CST)), row(at=MONDAY + timedelta(7))]
    assert [e.period_label for e in evaluate(rows, "week", "agent", config())] == [
        "2026-W47",
        "2026-W48",
    ]


def test_trend_against_the_previous_period() -> None:
    week = timedelta(days=7)
    rows = [
        row(70),
        row(74, at=MONDAY + week),
        row(86, at=MONDAY + week),
        row(90, MONDAY + 3 * week),
    ]
    trends = {e.period_label: e.trend for e in evaluate(rows, "week", "agent", config())}
    assert trends == {"2026-W47": None, "2026-W48": pytest.approx(10.0), "2026-W50": None}
    other = row(50, at=MONDAY + week, agent="a-02")  # no previous week of its own
    by_agent = {
        e.agent_id: e.trend
        for e in evaluate([*rows, other], "week", "agent", config())
        if e.period_label == "2026-W48"
    }
    assert by_agent == {"a-01": pytest.approx(10.0), "a-02": None}


# ---- KPIs, samples and ranking -----------------------------------------------------------------


def test_kpi_score_with_csat_and_renormalised_weights() -> None:
    dims = {
        "attitude": 90.0,
        "empathy": 60.0,
        "compliance": 90.0,
        "accuracy": 70.0,
        "responsiveness": 50.0,
        "resolution": 40.0,
    }
    with_csat = [row(dimensions=dims, csat=5), row(dimensions=dims, csat=2)]  # 100, 25
    [e] = evaluate(with_csat, "month", "agent", config())
    assert e.kpis == {"attitude": 80.0, "ability": 70.0, "speed": 50.0, "satisfaction": 62.5}
    assert e.kpi_score == pytest.approx(0.3 * 80 + 0.25 * 70 + 0.2 * 50 + 0.25 * 62.5)

    mixed = [row(dimensions=dims, csat=5), row(dimensions=dims)]  # 100 and resolution 40
    assert evaluate(mixed, "month", "agent", config())[0].kpis["satisfaction"] == 70.0

    no_satisfaction = {k: v for k, v in dims.items() if k != "resolution"}
    [e] = evaluate([row(dimensions=no_satisfaction)], "month", "agent", config())
    assert e.kpis["satisfaction"] is None
    assert e.kpi_weights == pytest.approx({"attitude": 0.4, "ability": 1 / 3, "speed": 0.8 / 3})
    assert e.kpi_score == pytest.approx((0.3 * 80 + 0.25 * 70 + 0.2 * 50) / 0.75)
    [empty] = evaluate([row(dimensions={})], "month", "agent", config())
    assert (empty.kpi_weights, empty.kpi_score) == ({}, None)


def test_conversion_only_for_pre_sale() -> None:
    pre = [row(team="pre-sale", converted=c) for c in (True, False, None, True)]
    [e] = evaluate(pre, "month", "team", config())
    assert e.kpis["conversion"] == pytest.approx(200 / 3)  # unknown outcomes don't count
    assert e.kpi_weights["conversion"] == 0.3
    [after] = evaluate([row(converted=True)], "month", "team", config())
    assert "conversion" not in after.kpis and "conversion" not in after.kpi_weights


def test_small_samples_are_reported_but_not_ranked() -> None:
    def agent(name: str, n: int, attitude: float, team: str = "after-sales") -> list[ScoreRow]:
        return [row(agent=name, team=team, dimensions=DIMS | {"attitude": attitude})] * n

    rows = [
        *agent("a-best", 3, 100.0),
        *agent("a-tie-1", 3, 70.0),
        *agent("a-tie-2", 4, 70.0),
        *agent("a-few", 2, 100.0),  # best KPI but only 2 < min_sample 3
        *agent("a-other-team", 3, 10.0, team="logistics"),
    ]
    result = {e.agent_id: e for e in evaluate(rows, "week", "agent", config())}
    assert {a: e.rank for a, e in result.items()} == {
        "a-best": 1,
        "a-tie-1": 2,
        "a-tie-2": 2,
        "a-few": None,
        "a-other-team": 1,
    }
    assert result["a-few"].insufficient and result["a-few"].kpi_score is not None
    assert not result["a-best"].insufficient

    teams = {e.team: e for e in evaluate(rows, "week", "team", config())}
    assert (teams["after-sales"].count, teams["after-sales"].agent_id) == (12, None)
    assert (teams["after-sales"].rank, teams["logistics"].rank) == (1, 2)


def test_to_dict_is_json_ready() -> None:
    [e] = evaluate([row(), row(90)], "week", "agent", config())
    data = json.loads(json.dumps(e.to_dict()))
    assert data["period_start"] == "2026-11-16"
    assert data["kpis"]["attitude"] == 80.0 and data["count"] == 2


# ---- configuration -----------------------------------------------------------------------------


def test_shipped_config_loads() -> None:
    shipped = load_evaluation_config(Path(__file__).parents[1] / "rubrics/evaluation/default.yaml")
    assert shipped.min_sample == 5 and shipped.timezone == "Asia/Shanghai"
    assert shipped.kpis["conversion"].teams == ["pre-sale"]
    assert shipped.kpis["attitude"].name.zh == "服务态度"
    assert sum(shipped.weights_for("pre-sale").values()) == pytest.approx(1)
    assert "conversion" not in shipped.weights_for("after-sales")


def _errors(**changes: Any) -> list[str]:
    with pytest.raises(EvaluationConfigError) as exc:
        config(**changes)
    return [str(e) for e in exc.value.errors]


def test_config_errors_name_the_field() -> None:
    base = config().weights.model_dump()
    assert _errors(weights=base | {"default": {"attitude": 0.5, "ability": 0.4}}) == [
        "weights.default: weights sum to 0.9; they must sum to 1"
    ]
    negative = {"attitude": 1.2, "ability": -0.2}
    assert _errors(weights=base | {"default": negative}) == [
        "weights.default.ability: Input should be greater than or equal to 0"
    ]
    typo = base | {"teams": {"logistics": {"atitude": 1.0}}}
    [message] = _errors(weights=typo)
    assert message.startswith("weights: teams.logistics: unknown KPI 'atitude' (known: attitude,")
    conversion_everywhere = base | {"default": {"attitude": 0.7, "conversion": 0.3}}
    assert _errors(weights=conversion_everywhere) == [
        "weights: default: KPI 'conversion' applies only to teams ['pre-sale']"
    ]
    assert _errors(timezone="Mars/Olympus") == [
        "timezone: unknown time zone 'Mars/Olympus' (an IANA name such as Asia/Shanghai, "
        "or 'conversation' for each conversation's own UTC offset)"
    ]
    assert _errors(min_sample=0) == ["min_sample: Input should be greater than or equal to 1"]
    bad_kpi = {"x": {"name": {"en": "X"}, "source": "dimensions"}}
    assert _errors(kpis=bad_kpi, weights={"default": {"x": 1}}) == [
        "kpis.x: source 'dimensions' needs at least one dimension"
    ]
    assert _errors(kpis={"x": {"name": {}, "source": "votes"}}, weights={"default": {"x": 1}}) == [
        "kpis.x.name: give at least one of zh, en",
        "kpis.x.source: Input should be 'dimensions', 'csat' or 'conversion'",
    ]


def test_config_file_errors(tmp_path: Path) -> None:
    with pytest.raises(EvaluationConfigError, match=r"\(file\): no such file"):
        load_evaluation_config(tmp_path / "missing.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("weights: [unclosed", encoding="utf-8")
    with pytest.raises(EvaluationConfigError, match="not valid YAML"):
        load_evaluation_config(broken)
