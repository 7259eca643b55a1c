"""Fitting a head: logistic outputs over [TF-IDF | standardised encoder features], regularisation
chosen on the validation split, then Platt-calibrated on the same split.

Standardisation and the encoder block's weight are folded into the stored coefficients, so
serving multiplies raw features and needs no scaler.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from qa_scoring.classify.heads import TOKEN_PATTERN, HeadArtefact, LinearOutput

TFIDF_PARAMS: dict[str, Any] = {
    "token_pattern": TOKEN_PATTERN,
    "ngram_range": [1, 2],
    "sublinear_tf": True,
    "lowercase": True,
}


def platt(logits: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(a, b) so that sigmoid(a·logit + b) is calibrated on (logits, y); identity if y is
    single-class. Monotone increasing whenever the head ranks better than chance."""
    if len(np.unique(y)) < 2:
        return 1.0, 0.0
    lr = LogisticRegression(C=1e4, max_iter=1000).fit(logits.reshape(-1, 1), y)
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])


def _auc(y: np.ndarray, score: np.ndarray) -> float:
    return float(roc_auc_score(y, score)) if len(np.unique(y)) > 1 else float("nan")


class HeadTrainer:
    """Fits one head (several outputs sharing a feature set) in the scikit-learn manner.

    ``features``: any of "tfidf", "encoder". ``Cs``: inverse regularisation grid (default: one
    suited to the features: standardised 1,152-d encoder features want strong regularisation,
    TF-IDF weak); ``alphas``: weight grid of the encoder block next to TF-IDF (both used only).
    """

    def __init__(
        self,
        features: Sequence[str] = ("encoder",),
        Cs: Sequence[float] | None = None,
        alphas: Sequence[float] = (0.003, 0.01, 0.03, 0.1),
        max_features: int = 50_000,
    ) -> None:
        self.features = tuple(features)
        self.Cs = Cs
        self.alphas = tuple(alphas)
        self.max_features = max_features

    def _design(self, xe: np.ndarray | None, texts: Sequence[str], alpha: float) -> Any:
        blocks: list[Any] = []
        if "tfidf" in self.features:
            blocks.append(self.vectorizer_.transform(list(texts)))
        if "encoder" in self.features:
            z = alpha * (xe - self.mean_) / self.scale_
            blocks.append(sparse.csr_matrix(z) if blocks else z)
        return sparse.hstack(blocks, format="csr") if len(blocks) > 1 else blocks[0]

    def fit(
        self,
        xe_train: np.ndarray,
        texts_train: Sequence[str],
        y_train: dict[str, np.ndarray],
        xe_val: np.ndarray,
        texts_val: Sequence[str],
        y_val: dict[str, np.ndarray],
    ) -> HeadTrainer:
        if "tfidf" in self.features:
            self.vectorizer_ = TfidfVectorizer(
                **{**TFIDF_PARAMS, "ngram_range": tuple(TFIDF_PARAMS["ngram_range"])},
                min_df=2,
                max_features=self.max_features,
                dtype=np.float32,
            ).fit(list(texts_train))
        if "encoder" in self.features:
            self.mean_ = xe_train.mean(axis=0)
            self.scale_ = np.maximum(xe_train.std(axis=0), 1e-6)
        both = {"tfidf", "encoder"} <= set(self.features)
        if self.Cs is not None:
            cs = tuple(self.Cs)
        elif "tfidf" in self.features:
            cs = (0.3, 1.0, 3.0, 10.0, 30.0)
        else:
            cs = (0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03)
        alphas = self.alphas if both else (1.0,)
        designs = {
            a: (self._design(xe_train, texts_train, a), self._design(xe_val, texts_val, a))
            for a in alphas
        }
        self.outputs_: dict[str, LinearOutput] = {}
        self.selection_: dict[str, dict[str, float]] = {}
        for name, y in y_train.items():
            if len(np.unique(y)) < 2:
                raise ValueError(f"{name}: the training split has a single class")
            best: tuple[float, float, float, LogisticRegression] | None = None
            for a, c in itertools.product(alphas, cs):
                x_tr, x_va = designs[a]
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    lr = LogisticRegression(C=c, max_iter=2000).fit(x_tr, y)
                auc = _auc(y_val[name], lr.decision_function(x_va))
                if best is None or auc > best[0]:
                    best = (auc, a, c, lr)
            assert best is not None
            auc, a, c, lr = best
            out = self._fold(lr, a)
            out.platt_a, out.platt_b = platt(lr.decision_function(designs[a][1]), y_val[name])
            self.outputs_[name] = out
            self.selection_[name] = {"val_auc": auc, "C": c, "alpha": a if both else None}
        return self

    def _fold(self, lr: LogisticRegression, alpha: float) -> LinearOutput:
        """Coefficients over raw [TF-IDF | encoder] features (scaler and alpha folded in)."""
        w = lr.coef_[0].astype(np.float64)
        b = float(lr.intercept_[0])
        if "encoder" in self.features:
            n_enc = len(self.mean_)
            w_enc = alpha * w[-n_enc:] / self.scale_
            b -= float(w_enc @ self.mean_)
            w = np.concatenate([w[:-n_enc], w_enc])
        return LinearOutput(coef=w, intercept=b)

    def artefact(self, head: str, version: str, kind: str, block: str) -> HeadArtefact:
        tfidf = None
        if "tfidf" in self.features:
            tfidf = {
                "params": TFIDF_PARAMS,
                "vocabulary": {t: int(i) for t, i in self.vectorizer_.vocabulary_.items()},
                "idf": self.vectorizer_.idf_,
            }
        return HeadArtefact(
            head=head,
            version=version,
            kind=kind,  # type: ignore[arg-type]
            block=block,
            outputs=self.outputs_,
            use_encoder="encoder" in self.features,
            tfidf=tfidf,
            info={"features": list(self.features), "selection": self.selection_},
        )
