"""Readable terminal reports for QA leads, in zh or en: flagged conversations with the words
behind every lost point, and agent evaluations."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from qa_scoring.conversation import Conversation
from qa_scoring.evaluation import AgentEvaluation, EvaluationConfig
from qa_scoring.i18n import label
from qa_scoring.rubric import Rubric
from qa_scoring.scoring import Score

HEAD = {
    "summary": {"zh": "评分汇总", "en": "Scoring summary"},
    "scored": {"zh": "已评分", "en": "Scored"},
    "rejected": {"zh": "被拒绝", "en": "Rejected"},
    "mean": {"zh": "平均分", "en": "Mean score"},
    "pass_rate": {"zh": "合格率", "en": "Pass rate"},
    "review": {"zh": "待复核", "en": "Needs review"},
    "auto_fail": {"zh": "一票否决", "en": "Auto-failed"},
    "flagged": {"zh": "需复核的会话", "en": "Conversations flagged for review"},
    "lost": {"zh": "失分项", "en": "Points lost"},
    "agents": {"zh": "客服考核", "en": "Agent evaluations"},
    "teams": {"zh": "团队考核", "en": "Team evaluations"},
    "model_note": {"zh": "模型", "en": "models"},
}
FLAG_NAMES = {
    "no_agent_reply": {"zh": "客服未回复", "en": "no agent reply"},
    "auto_fail": {"zh": "一票否决", "en": "auto-fail"},
    "below_pass_mark": {"zh": "低于合格线", "en": "below pass mark"},
    "borderline": {"zh": "临界分数", "en": "borderline"},
    "low_confidence": {"zh": "判定置信度低", "en": "low confidence"},
    "customer_unhappy": {"zh": "客户不满意", "en": "customer unhappy"},
    "long_wait": {"zh": "长时间等待", "en": "long wait"},
}
ROLE = {"zh": {"customer": "客户", "agent": "客服", "bot": "机器人", "system": "系统"}}


def t(key: str, lang: str) -> str:
    return label(HEAD[key], lang)


def flag_names(flags: Sequence[str], lang: str) -> str:
    return ", ".join(label(FLAG_NAMES.get(f, {"en": f}), lang) for f in flags)


def render_summary(console: Console, scores: Sequence[Score], rejected: int, lang: str) -> None:
    n = len(scores)
    table = Table(title=t("summary", lang))
    for key in ("scored", "rejected", "mean", "pass_rate", "review", "auto_fail"):
        table.add_column(t(key, lang), justify="right")
    mean = sum(s.overall for s in scores) / n if n else 0.0
    table.add_row(
        str(n),
        str(rejected),
        f"{mean:.1f}",
        f"{sum(s.passed for s in scores) / n:.0%}" if n else "-",
        str(sum(s.needs_review for s in scores)),
        str(sum(s.auto_failed for s in scores)),
    )
    console.print(table)


def render_flagged(
    console: Console,
    scores: Sequence[Score],
    conversations: dict[str, Conversation],
    rubrics: dict[str, Rubric],
    lang: str,
    limit: int = 8,
) -> None:
    """The worst flagged conversations first, each lost point with its turn and words."""
    flagged = sorted((s for s in scores if s.needs_review), key=lambda s: s.overall)[:limit]
    console.rule(t("flagged", lang))
    for score in flagged:
        conv = conversations[score.conversation_id]
        rubric = rubrics[score.rubric["id"]]
        names = {c.id: label(c.name.as_dict(), lang) for c in rubric.spec.criteria}
        console.print(
            Text.assemble(
                (f"{score.conversation_id}", "bold"),
                f"  {score.agent_id} · {score.team or '-'}  ",
                (f"{score.overall:.1f}", "bold red" if not score.passed else "bold green"),
                f"  [{flag_names(score.flags, lang)}]",
            )
        )
        for c in score.criteria:
            if c.result.passed is not False:
                continue
            lost = c.points_possible - (c.points or 0)
            console.print(
                f"  − {lost:g} {names[c.criterion]}  ({c.result.source}, "
                f"conf {c.result.confidence:.2f})"
            )
            for e in c.result.evidence[:3]:
                turn = conv.turns[e.turn]
                role = ROLE.get(lang, {}).get(turn.role, turn.role)
                console.print(
                    Text.assemble(
                        f"      #{e.turn} {role}: ",
                        _highlight(turn.text, e.start, e.end),
                        (f"  ← {e.note}", "dim") if e.note else "",
                    )
                )
        console.print()


def _highlight(text: str, start: int, end: int, width: int = 60) -> Text:
    """The turn text around the span, with the span itself highlighted."""
    if end - start >= len(text):
        return Text(text[:width] + ("…" if len(text) > width else ""), style="yellow")
    lo = max(0, start - 20)
    hi = min(len(text), end + 20)
    return Text.assemble(
        ("…" if lo else "") + text[lo:start],
        (text[start:end], "black on yellow"),
        text[end:hi] + ("…" if hi < len(text) else ""),
    )


def render_evaluations(
    console: Console,
    evaluations: Sequence[AgentEvaluation],
    config: EvaluationConfig,
    by: str,
    lang: str,
) -> None:
    """One row per (period, agent or team); insufficient samples are shown but not ranked."""
    table = Table(title=t("agents" if by == "agent" else "teams", lang))
    cols = {
        "zh": [
            "周期",
            "客服" if by == "agent" else "团队",
            "团队",
            "会话数",
            "平均分 (95% CI)",
            "合格率",
            "否决率",
            "环比",
            *[label(k.name.as_dict(), "zh") for k in config.kpis.values()],
            "综合KPI",
            "排名",
        ],
        "en": [
            "Period",
            "Agent" if by == "agent" else "Team",
            "Team",
            "N",
            "Mean (95% CI)",
            "Pass",
            "Auto-fail",
            "Trend",
            *[label(k.name.as_dict(), "en") for k in config.kpis.values()],
            "KPI",
            "Rank",
        ],
    }[lang if lang in ("zh", "en") else "en"]
    if by != "agent":
        cols.pop(2)
    for i, c in enumerate(cols):
        table.add_column(c, justify="left" if i < 3 else "right")
    insufficient = "样本不足" if lang == "zh" else "too few"
    for e in evaluations:
        ci = f" ({e.ci_low:.0f}–{e.ci_high:.0f})" if e.ci_low is not None else ""
        trend = "" if e.trend is None else f"{e.trend:+.1f}"
        kpis = [("" if e.kpis.get(k) is None else f"{e.kpis[k]:.0f}") for k in config.kpis]
        row = [
            e.period_label,
            e.agent_id or e.team or "-",
            e.team or "-",
            str(e.count),
            f"{e.mean_overall:.1f}{ci}",
            f"{e.pass_rate:.0%}",
            f"{e.auto_fail_rate:.0%}",
            trend,
            *kpis,
            "" if e.kpi_score is None else f"{e.kpi_score:.1f}",
            insufficient if e.insufficient else str(e.rank or ""),
        ]
        if by != "agent":
            row.pop(2)
        table.add_row(*row)
    console.print(table)
