"""`qa-scoring train` and `qa-scoring evaluate` (also `python -m training ...`).

Mounted into the main CLI through the ``qa_scoring.commands`` entry-point group.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import click
from rich.console import Console

from qa_scoring.config import get_settings

HEADS = ("politeness", "empathy", "accuracy", "resolution", "satisfaction")
console = Console(width=110)  # the metric tables need the room, also in logs


def _offline() -> None:
    # weights come from the local backbone folder only, never from a hub
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def _heads(heads: tuple[str, ...], all_heads: bool) -> tuple[str, ...]:
    if all_heads:
        return HEADS
    if not heads:
        raise click.UsageError("name the heads to train, or pass --all")
    return heads


@click.command()
@click.argument("heads", nargs=-1, type=click.Choice(HEADS))
@click.option("--all", "all_heads", is_flag=True, help="Train every head.")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Corpora folder (default: QA_SCORING_DATA_DIR / settings).")
@click.option("--limit", type=int, help="At most N examples per split (quick runs, tests).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Models folder to write artefacts and the manifest into (default: models/).")
def train(
    heads: tuple[str, ...], all_heads: bool, data_dir: Path | None, limit: int | None,
    out: Path | None,
) -> None:
    """Train classifier heads on the frozen encoder; write artefacts, cards and the manifest.

    训练分类头（冻结编码器特征 + 逻辑回归，验证集校准），写入 models/。
    """
    from training.embeddings import EmbeddingCache
    from training.report import table
    from training.train import train_head

    _offline()
    out = out or get_settings().models_dir
    cache = EmbeddingCache()
    started = time.perf_counter()
    for head in _heads(heads, all_heads):
        console.rule(head)
        artefact, metrics = train_head(head, out, data_dir, limit, cache)
        console.print(table(metrics))
        console.print(f"→ {out / head / artefact.version}  {metrics['timing_s']}")
    console.print(f"total {time.perf_counter() - started:.0f}s")


@click.command()
@click.argument("heads", nargs=-1, type=click.Choice(HEADS))
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--models", "models_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Models folder (default: models/).")
def evaluate(heads: tuple[str, ...], data_dir: Path | None, models_dir: Path | None) -> None:
    """Evaluate the serving heads against the TF-IDF+LR baseline on the test split.

    在测试集上对比模型与 TF-IDF 基线，写出可靠性图和混淆矩阵。
    """
    from training.embeddings import EmbeddingCache
    from training.report import table
    from training.train import evaluate_serving

    _offline()
    models_dir = models_dir or get_settings().models_dir
    cache = EmbeddingCache()
    for head in heads or HEADS:
        metrics = evaluate_serving(head, models_dir, data_dir, cache)
        if metrics is None:
            console.print(f"[yellow]{head}: no serving artefact in {models_dir}[/yellow]")
            continue
        console.print(table(metrics))
