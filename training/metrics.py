"""Metrics for calibrated binary heads, and the two diagnostic plots."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr
from sklearn.metrics import accuracy_score, brier_score_loss, f1_score, roc_auc_score


def ece(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error: |accuracy - confidence| over equal-width bins of P(good)."""
    idx = np.minimum((p * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        mask = idx == b
        if mask.any():
            total += mask.mean() * abs(y[mask].mean() - p[mask].mean())
    return float(total)


def binary_metrics(y: np.ndarray, p: np.ndarray, score: np.ndarray | None = None) -> dict:
    """n, positive share, accuracy and macro-F1 at 0.5, AUC, ECE, Brier, Spearman vs ``score``."""
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    two = len(np.unique(y)) > 1
    out = {
        "n": len(y),
        "pos": float(y.mean()) if len(y) else math.nan,
        "acc": float(accuracy_score(y, p >= 0.5)),
        "macro_f1": float(f1_score(y, p >= 0.5, average="macro", zero_division=0)),
        "auc": float(roc_auc_score(y, p)) if two else math.nan,
        "ece": ece(y, p),
        "brier": float(brier_score_loss(y, p)),
    }
    if score is not None and len(np.unique(score)) > 1 and len(np.unique(p)) > 1:
        out["spearman"] = float(spearmanr(p, score).statistic)
    return out


def plot_reliability(
    curves: dict[str, tuple[np.ndarray, np.ndarray]], title: str, path: Path, bins: int = 10
) -> None:
    """Reliability diagram: observed share of positives per bin of predicted P, per model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(3.6, 3.4), dpi=80)
    ax.plot([0, 1], [0, 1], ls=":", c="grey", lw=1)
    for name, (y, p) in curves.items():
        idx = np.minimum((p * bins).astype(int), bins - 1)
        xs = [p[idx == b].mean() for b in range(bins) if (idx == b).any()]
        ys = [y[idx == b].mean() for b in range(bins) if (idx == b).any()]
        ax.plot(xs, ys, marker="o", ms=3, lw=1.2, label=f"{name} (ECE {ece(y, p):.3f})")
    ax.set(xlabel="predicted P(good)", ylabel="observed share good", title=title)
    ax.title.set_fontsize(9)
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_confusion(y: np.ndarray, p: np.ndarray, title: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    m = np.zeros((2, 2), dtype=int)
    for t, q in zip(y.astype(int), (p >= 0.5).astype(int), strict=True):
        m[t, q] += 1
    fig, ax = plt.subplots(figsize=(2.8, 2.6), dpi=80)
    ax.imshow(m, cmap="Blues")
    for (i, j), v in np.ndenumerate(m):
        ax.text(j, i, str(v), ha="center", va="center", fontsize=9,
                color="white" if v > m.max() / 2 else "black")
    ax.set(xticks=[0, 1], yticks=[0, 1], xticklabels=["bad", "good"],
           yticklabels=["bad", "good"], xlabel="predicted", ylabel="label", title=title)
    ax.title.set_fontsize(9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
