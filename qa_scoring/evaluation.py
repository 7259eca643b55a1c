"""Agent and team evaluations (客服考核): stored scores rolled up per ISO week, month or quarter,
with confidence intervals, trends and the shop's weighted KPI score.

Pure functions over plain :class:`ScoreRow` values; ``storage.repository.evaluation_rows`` builds
the rows for a tenant (latest rubric version per conversation, QA leads' overrides applied).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path
from statistics import fmean, stdev
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from qa_scoring.config import get_settings
from qa_scoring.conversation import field_errors
from qa_scoring.errors import FieldError, RubricError
from qa_scoring.rubric import Localized

Period = Literal["week", "month", "quarter"]
By = Literal["agent", "team"]
OWN_OFFSET = "conversation"  # timezone setting: cut periods in each conversation's own offset

# Two-sided 95% t quantiles t(0.975, df) for df 1–30; beyond 30 the Cornish–Fisher expansion in
# _t975 agrees with the exact quantile to four decimals.
_T975 = (
    12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281,
    2.2010, 2.1788, 2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860,
    2.0796, 2.0739, 2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423,
)  # fmt: skip
_Z975 = 1.959963984540054


def _t975(df: int) -> float:
    if df <= len(_T975):
        return _T975[df - 1]
    z, v = _Z975, float(df)
    return (
        z
        + (z**3 + z) / (4 * v)
        + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * v**2)
        + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * v**3)
        + (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / (92160 * v**4)
    )


def mean_ci95(values: Sequence[float]) -> tuple[float, float | None, float | None]:
    """Mean and its 95% confidence interval (Student's t); no interval from a single value."""
    mean = fmean(values)
    if len(values) < 2:
        return mean, None, None
    half = _t975(len(values) - 1) * stdev(values) / math.sqrt(len(values))
    return mean, mean - half, mean + half


# ---- configuration -----------------------------------------------------------------------------


class EvaluationConfigError(RubricError):
    """An evaluation config that does not validate; ``errors`` name the offending paths."""


def _sums_to_one(weights: dict[str, float]) -> dict[str, float]:
    total = sum(weights.values())
    if abs(total - 1) > 1e-6:
        raise ValueError(f"weights sum to {total:g}; they must sum to 1")
    return weights


WeightSet = Annotated[dict[str, Annotated[float, Field(ge=0)]], AfterValidator(_sums_to_one)]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class KPI(_Spec):
    """One KPI on a 0–100 scale. ``dimensions``: the mean of these dimension scores; ``csat``:
    outcome.csat mapped 1→0 … 5→100, else the mean of ``dimensions``; ``conversion``: the share
    of conversations with a known outcome.converted that converted, × 100."""

    name: Localized
    source: Literal["dimensions", "csat", "conversion"]
    dimensions: list[str] = []
    teams: list[str] | None = Field(default=None, description="applies only to these teams")

    @model_validator(mode="after")
    def _dimensions_fit_source(self) -> KPI:
        if self.source == "dimensions" and not self.dimensions:
            raise ValueError("source 'dimensions' needs at least one dimension")
        if self.source == "conversion" and self.dimensions:
            raise ValueError("source 'conversion' reads outcome.converted; it takes no dimensions")
        return self

    def applies_to(self, team: str | None) -> bool:
        return self.teams is None or team in self.teams


class Weights(_Spec):
    default: WeightSet
    teams: dict[str, WeightSet] = {}


class EvaluationConfig(_Spec):
    min_sample: int = Field(default=5, ge=1)
    timezone: str = "Asia/Shanghai"
    kpis: dict[str, KPI] = Field(min_length=1)
    weights: Weights

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        if name != OWN_OFFSET:
            try:
                ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(
                    f"unknown time zone {name!r} (an IANA name such as Asia/Shanghai, "
                    f"or {OWN_OFFSET!r} for each conversation's own UTC offset)"
                ) from None
        return name

    @field_validator("weights")
    @classmethod
    def _weights_name_kpis(cls, weights: Weights, info: ValidationInfo) -> Weights:
        kpis: dict[str, KPI] | None = info.data.get("kpis")
        if kpis is None:  # invalid KPIs are reported already; don't pile errors on top
            return weights
        sets = {"default": weights.default} | {f"teams.{t}": w for t, w in weights.teams.items()}
        for where, weight_set in sets.items():
            team = where.removeprefix("teams.") if where != "default" else None
            for kpi_id in weight_set:
                if kpi_id not in kpis:
                    raise ValueError(f"{where}: unknown KPI {kpi_id!r} (known: {', '.join(kpis)})")
                if not kpis[kpi_id].applies_to(team):
                    raise ValueError(
                        f"{where}: KPI {kpi_id!r} applies only to teams {kpis[kpi_id].teams}"
                    )
        return weights

    @property
    def zone(self) -> tzinfo | None:
        return None if self.timezone == OWN_OFFSET else ZoneInfo(self.timezone)

    def weights_for(self, team: str | None) -> dict[str, float]:
        return self.weights.teams.get(team, self.weights.default) if team else self.weights.default


def parse_evaluation_config(data: Any, source: str = "<evaluation config>") -> EvaluationConfig:
    try:
        return EvaluationConfig.model_validate(data)
    except ValidationError as exc:
        raise EvaluationConfigError(source, field_errors(exc, root="(config)")) from None


def load_evaluation_config(path: str | Path | None = None) -> EvaluationConfig:
    """The config at ``path``; by default ``evaluation/default.yaml`` in the rubrics folder."""
    path = Path(path) if path else get_settings().rubrics_dir / "evaluation" / "default.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EvaluationConfigError(str(path), [FieldError("(file)", "no such file")]) from None
    except yaml.YAMLError as exc:
        raise EvaluationConfigError(
            str(path), [FieldError("(file)", f"not valid YAML: {exc}")]
        ) from None
    return parse_evaluation_config(data, str(path))


# ---- periods -----------------------------------------------------------------------------------


def period_start(day: date, period: Period) -> date:
    """First day of the ISO week (Monday), month or quarter that ``day`` falls in."""
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def previous_period_start(start: date, period: Period) -> date:
    return period_start(start - timedelta(days=1), period)


def period_label(start: date, period: Period) -> str:
    if period == "week":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    if period == "month":
        return f"{start.year}-{start.month:02d}"
    return f"{start.year}-Q{(start.month - 1) // 3 + 1}"


def local_day(moment: datetime, zone: tzinfo | None) -> date:
    """The calendar day in ``zone``; None keeps the moment's own offset. A naive moment is
    already local wall-clock time (a helpdesk export without offsets) and is taken as is."""
    if zone is None or moment.tzinfo is None:
        return moment.date()
    return moment.astimezone(zone).date()


# ---- evaluation --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreRow:
    """What an evaluation reads from one scored conversation."""

    agent_id: str
    team: str | None
    started_at: datetime
    overall: float
    passed: bool
    auto_failed: bool
    needs_review: bool
    dimensions: Mapping[str, float | None]
    csat: int | None = None
    converted: bool | None = None
    conversation_id: str | None = None


@dataclass
class AgentEvaluation:
    """One agent (``agent_id`` set) or one team (``agent_id`` None) over one period."""

    period: Period
    period_label: str
    period_start: date
    agent_id: str | None
    team: str | None
    count: int
    mean_overall: float
    ci_low: float | None
    ci_high: float | None
    dimensions: dict[str, float | None]
    pass_rate: float
    auto_fail_rate: float
    review_rate: float
    trend: float | None  # mean_overall minus the previous period's; None without one
    kpis: dict[str, float | None]
    kpi_weights: dict[str, float]  # the weights used, re-normalised over KPIs that had data
    kpi_score: float | None
    insufficient: bool  # count < min_sample: shown, never ranked
    rank: int | None = None  # 1 = best KPI score among sufficient peers (same team and period)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"period_start": self.period_start.isoformat()}


def _mean_or_none(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return fmean(present) if present else None


def _row_kpi(kpi: KPI, row: ScoreRow) -> float | None:
    if kpi.source == "conversion":
        return None if row.converted is None else 100.0 * row.converted
    if kpi.source == "csat" and row.csat is not None:
        return (row.csat - 1) * 25.0
    return _mean_or_none(row.dimensions.get(d) for d in kpi.dimensions)


def _kpi_score(
    kpis: dict[str, float | None], weights: dict[str, float]
) -> tuple[dict[str, float], float | None]:
    """Weighted mean over the KPIs that have data, weights re-normalised to sum to 1."""
    values = {k: v for k, v in kpis.items() if v is not None}
    usable = {k: w for k, w in weights.items() if w > 0 and k in values}
    total = sum(usable.values())
    if not total:
        return {}, None
    used = {k: w / total for k, w in usable.items()}
    return used, sum(w * values[k] for k, w in used.items())


def _summarise(rows: list[ScoreRow], team: str | None, config: EvaluationConfig) -> dict[str, Any]:
    n = len(rows)
    mean, low, high = mean_ci95([r.overall for r in rows])
    dims = dict.fromkeys(d for r in rows for d in r.dimensions)
    kpis = {
        kpi_id: _mean_or_none(_row_kpi(kpi, r) for r in rows)
        for kpi_id, kpi in config.kpis.items()
        if kpi.applies_to(team)
    }
    weights, score = _kpi_score(kpis, config.weights_for(team))
    return {
        "count": n,
        "mean_overall": mean,
        "ci_low": low,
        "ci_high": high,
        "dimensions": {d: _mean_or_none(r.dimensions.get(d) for r in rows) for d in dims},
        "pass_rate": sum(r.passed for r in rows) / n,
        "auto_fail_rate": sum(r.auto_failed for r in rows) / n,
        "review_rate": sum(r.needs_review for r in rows) / n,
        "kpis": kpis,
        "kpi_weights": weights,
        "kpi_score": score,
        "insufficient": n < config.min_sample,
    }


def _rank(evaluations: list[AgentEvaluation], by: By) -> None:
    """Competition ranking (1, 2, 2, 4) by KPI score: agents within their team and period,
    teams within the period. Insufficient samples are not ranked."""
    peers: dict[tuple[date, str | None], list[tuple[float, AgentEvaluation]]] = defaultdict(list)
    for e in evaluations:
        if not e.insufficient and e.kpi_score is not None:
            peers[(e.period_start, e.team if by == "agent" else None)].append((e.kpi_score, e))
    for group in peers.values():
        group.sort(key=lambda pair: pair[0], reverse=True)
        for i, (score, e) in enumerate(group):
            e.rank = group[i - 1][1].rank if i and group[i - 1][0] == score else i + 1


def evaluate(
    rows: Iterable[ScoreRow], period: Period, by: By, config: EvaluationConfig
) -> list[AgentEvaluation]:
    """Evaluations for every (period, agent or team) present in ``rows``, oldest period first.

    Agents are grouped per team (one who changed team mid-period appears once per team). A trend
    needs the previous period's rows in ``rows`` too: query one period further back than the
    first one shown.
    """
    zone = config.zone
    groups: dict[tuple[date, str | None, str | None], list[ScoreRow]] = defaultdict(list)
    for r in rows:
        start = period_start(local_day(r.started_at, zone), period)
        groups[(start, r.agent_id if by == "agent" else None, r.team)].append(r)

    means = {key: fmean(r.overall for r in group) for key, group in groups.items()}
    evaluations = []
    for (start, agent_id, team), group in groups.items():
        previous = means.get((previous_period_start(start, period), agent_id, team))
        summary = _summarise(group, team, config)
        evaluations.append(
            AgentEvaluation(
                period=period,
                period_label=period_label(start, period),
                period_start=start,
                agent_id=agent_id,
                team=team,
                trend=None if previous is None else summary["mean_overall"] - previous,
                **summary,
            )
        )
    _rank(evaluations, by)
    evaluations.sort(key=lambda e: (e.period_start, e.team or "", e.agent_id or ""))
    return evaluations
