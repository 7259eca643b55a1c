"""Train one head end to end: data → split → features → model and baseline → artefact →
evaluation, model card and manifest entry."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from qa_scoring.classify.heads import HeadArtefact
from training.embeddings import EmbeddingCache
from training.features import build
from training.fit import HeadTrainer
from training.splits import Split, split_items
from training.tasks import TASKS, Example, Task, score_of, source_of


@dataclass
class Prepared:
    """One split of one task, featurised."""

    examples: list[Example]
    xe: np.ndarray
    texts: list[str]
    y: dict[str, np.ndarray]
    score: np.ndarray | None
    language: np.ndarray
    source: np.ndarray


def prepare(task: Task, examples: list[Example], cache: EmbeddingCache, block: str) -> Prepared:
    xe, texts = build(task, examples, cache, block)
    scores = [score_of(task, ex) for ex in examples]
    return Prepared(
        examples=examples,
        xe=xe,
        texts=texts,
        y={name: np.array([f(ex.labels) for ex in examples]) for name, f in task.targets.items()},
        score=None if any(s is None for s in scores) else np.array(scores, dtype=float),
        language=np.array([ex.language for ex in examples]),
        source=np.array([source_of(ex) for ex in examples]),
    )


def load_splits(
    task: Task, data_dir: Path | None, cache: EmbeddingCache, block: str, limit: int | None = None
) -> dict[Split, Prepared]:
    """The task's fixed split, featurised; ``limit`` caps each split (for quick runs/tests)."""
    splits = split_items(task.load(data_dir))
    return {
        name: prepare(task, items[:limit] if limit else items, cache, block)
        for name, items in splits.items()
    }


def fit_candidates(
    task: Task, data: dict[str, dict[Split, Prepared]]
) -> tuple[HeadTrainer, str, dict[str, float]]:
    """The shipped model, picked by mean validation AUC over outputs among: each feature block
    of the task x encoder features alone, or with TF-IDF where the task allows lexical ones."""
    features = [("encoder",)] + ([("tfidf", "encoder")] if task.lexical else [])
    fitted: dict[str, tuple[HeadTrainer, str]] = {}
    for block, splits in data.items():
        tr, va = splits["train"], splits["val"]
        for f in features:
            trainer = HeadTrainer(f).fit(tr.xe, tr.texts, tr.y, va.xe, va.texts, va.y)
            fitted[f"{block}: {'+'.join(f)}"] = (trainer, block)
    scores = {
        name: float(np.mean([s["val_auc"] for s in t.selection_.values()]))
        for name, (t, _) in fitted.items()
    }
    best, block = fitted[max(scores, key=scores.__getitem__)]
    return best, block, scores


def fit_baseline(data: dict[Split, Prepared]) -> HeadTrainer:
    """TF-IDF (zh characters / en words, 1-2-grams) + logistic regression, same split."""
    tr, va = data["train"], data["val"]
    return HeadTrainer(("tfidf",)).fit(tr.xe, tr.texts, tr.y, va.xe, va.texts, va.y)


def version_of(trainer: HeadTrainer) -> str:
    digest = hashlib.sha256()
    for name, out in sorted(trainer.outputs_.items()):
        digest.update(name.encode())
        digest.update(out.coef.astype(np.float32).tobytes())
        digest.update(np.array([out.intercept, out.platt_a, out.platt_b]).tobytes())
    return f"{datetime.now(UTC):%Y%m%d}-{digest.hexdigest()[:8]}"


def train_head(
    head: str,
    out_dir: Path,
    data_dir: Path | None = None,
    limit: int | None = None,
    cache: EmbeddingCache | None = None,
) -> tuple[HeadArtefact, dict]:
    """Fit, save and evaluate one head; returns the artefact and its metrics."""
    from training.report import evaluate_head, update_manifest, write_reports

    task = TASKS[head]
    cache = cache or EmbeddingCache()
    started = time.perf_counter()
    by_block = {b: load_splits(task, data_dir, cache, b, limit) for b in task.blocks}
    features_s = time.perf_counter() - started
    model, block, candidates = fit_candidates(task, by_block)
    data = by_block[block]
    baseline = fit_baseline(data)
    artefact = model.artefact(head, version_of(model), task.kind, block)
    artefact.info["candidates_val_auc"] = candidates
    artefact.info["split_sizes"] = {k: len(v.examples) for k, v in data.items()}
    directory = out_dir / head / artefact.version
    artefact.save(directory)
    artefact = HeadArtefact.load(directory)  # evaluate exactly what serving will load
    reference = baseline.artefact(head, "baseline", task.kind, block)
    metrics = evaluate_head(task, artefact, reference, data["test"], cache)
    metrics["timing_s"] = {
        "features": round(features_s, 1),
        "fit_and_eval": round(time.perf_counter() - started - features_s, 1),
    }
    metrics["limit"] = limit
    write_reports(task, artefact, metrics, directory)
    update_manifest(out_dir, head, artefact.version)
    return artefact, metrics


def evaluate_serving(
    head: str, models_dir: Path, data_dir: Path | None = None, cache: EmbeddingCache | None = None
) -> dict | None:
    """Re-evaluate the manifest's version of ``head`` (baseline refit on the same split) and
    rewrite its metrics, plots and card; ``None`` if no artefact serves."""
    from qa_scoring.classify.registry import read_manifest
    from training.report import evaluate_head, write_reports

    entry = (read_manifest(models_dir).get("heads") or {}).get(head)
    directory = models_dir / head / str(entry["version"]) if entry else None
    if directory is None or not (directory / "head.json").is_file():
        return None
    task = TASKS[head]
    cache = cache or EmbeddingCache()
    artefact = HeadArtefact.load(directory)
    previous = json.loads((directory / "metrics.json").read_text())
    data = load_splits(task, data_dir, cache, artefact.block, previous.get("limit"))
    baseline = fit_baseline(data).artefact(head, "baseline", task.kind, artefact.block)
    metrics = evaluate_head(task, artefact, baseline, data["test"], cache)
    metrics["timing_s"] = previous.get("timing_s")
    metrics["limit"] = previous.get("limit")
    write_reports(task, artefact, metrics, directory)
    return metrics
