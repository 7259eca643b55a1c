"""Head artefacts: linear heads over shared encoder features (+ optional TF-IDF), calibrated.

A head is stored as plain arrays and JSON (no pickles: loading an artefact never runs code, and
it survives scikit-learn upgrades). Training (``training/``) and serving share the feature
builders below, so a head sees the same features in both.

Files in ``models/<head>/<version>/``: ``head.json`` (kind, outputs, feature block, TF-IDF
settings, calibration), ``weights.npz`` (per output: coefficients, intercept, Platt a/b; TF-IDF
idf), ``vocab.json`` (TF-IDF vocabulary, when the head uses one).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

# Mean-pooled hidden states of these encoder layers, each L2-normalised, concatenated: middle
# layers carry tone and style that the last layer (tuned for retrieval) partly discards; on
# politeness validation AUC 0.819 (last layer) -> 0.839 (6+9+12), zh transfer AUC 0.91 -> 0.96.
LAYERS = (6, 9, 12)
HIDDEN = 384  # e5-small
DIM = HIDDEN * len(LAYERS)  # encoder features per text
PREFIX = "query: "  # e5's prefix for symmetric tasks such as classification
# CJK characters one by one, Latin words whole: char bigrams for zh, word bigrams for en
TOKEN_PATTERN = r"[\u3400-\u9fff\uf900-\ufaff]|[A-Za-z0-9]+(?:'[A-Za-z]+)?"

Kind = Literal["turn", "conversation"]


def turn_features(text_vecs: np.ndarray, context_vecs: np.ndarray, block: str) -> np.ndarray:
    """Encoder features of agent turns for a feature block: "text" = the turn alone, "pair" =
    turn, mean of the customer turns it answers (zeros when none) and their product."""
    if block == "text":
        return text_vecs
    if block == "pair":
        return np.hstack([text_vecs, context_vecs, text_vecs * context_vecs])
    raise ValueError(f"unknown turn feature block {block!r}")


def conversation_features(turns: Sequence[tuple[str, np.ndarray]]) -> np.ndarray:
    """One conversation's encoder features: mean and last vector of each side.

    Means pool every turn, so the whole conversation counts however long it is; the last
    turns carry how it ended (thanks, complaint, confirmation)."""
    parts = []
    for role in ("customer", "agent"):
        vecs = [v for r, v in turns if r == role]
        parts += [np.mean(vecs, axis=0), vecs[-1]] if vecs else [np.zeros(DIM)] * 2
    return np.concatenate(parts).astype(np.float32)


def conversation_text(turns: Sequence[tuple[str, str]]) -> str:
    return "\n".join(text for _, text in turns)


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))


@dataclass
class LinearOutput:
    """p = sigmoid(a · (x·coef + intercept) + b): a logistic model and its Platt calibration."""

    coef: np.ndarray
    intercept: float
    platt_a: float = 1.0
    platt_b: float = 0.0

    def logit(self, x: Any) -> np.ndarray:
        return np.asarray(x @ self.coef).ravel() + self.intercept

    def predict_proba(self, x: Any) -> np.ndarray:
        return sigmoid(self.platt_a * self.logit(x) + self.platt_b)


@dataclass
class HeadArtefact:
    """A trained head: which features it reads and one calibrated linear output per name."""

    head: str
    version: str
    kind: Kind
    block: str  # turn: "text" | "pair"; conversation: "conversation"
    outputs: dict[str, LinearOutput]
    use_encoder: bool = True
    tfidf: dict[str, Any] | None = None  # {"params": {...}, "vocabulary": {...}, "idf": array}
    info: dict[str, Any] = field(default_factory=dict)  # training facts echoed into head.json
    _vectorizer: Any = field(default=None, init=False, repr=False)

    def vectorizer(self) -> Any:
        """The TF-IDF transform rebuilt from stored vocabulary + idf (no refit)."""
        if self.tfidf is None:
            return None
        if self._vectorizer is None:
            from sklearn.feature_extraction.text import TfidfVectorizer

            params = dict(self.tfidf["params"])
            params["ngram_range"] = tuple(params["ngram_range"])  # JSON stores a list
            vec = TfidfVectorizer(**params, vocabulary=self.tfidf["vocabulary"])
            vec.idf_ = self.tfidf["idf"]
            self._vectorizer = vec
        return self._vectorizer

    def design(self, encoder_x: np.ndarray | None, texts: Sequence[str]) -> Any:
        """The matrix the linear outputs read: [TF-IDF | encoder features] as configured."""
        from scipy import sparse

        blocks = []
        if self.tfidf is not None:
            blocks.append(self.vectorizer().transform(list(texts)))
        if self.use_encoder:
            blocks.append(sparse.csr_matrix(encoder_x) if self.tfidf is not None else encoder_x)
        return sparse.hstack(blocks, format="csr") if len(blocks) > 1 else blocks[0]

    def predict(self, encoder_x: np.ndarray | None, texts: Sequence[str]) -> dict[str, np.ndarray]:
        x = self.design(encoder_x, texts)
        return {name: out.predict_proba(x) for name, out in self.outputs.items()}

    # ------------------------------------------------------------------------ persistence

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, np.ndarray] = {}
        for name, out in self.outputs.items():
            arrays[f"{name}/coef"] = out.coef.astype(np.float32)
            arrays[f"{name}/params"] = np.array(
                [out.intercept, out.platt_a, out.platt_b], dtype=np.float64
            )
        meta: dict[str, Any] = {
            "head": self.head,
            "version": self.version,
            "kind": self.kind,
            "block": self.block,
            "use_encoder": self.use_encoder,
            "outputs": list(self.outputs),
            "calibration": "platt (logistic on the head's logit), fit on the validation split",
            "tfidf": None,
            **self.info,
        }
        if self.tfidf is not None:
            arrays["tfidf/idf"] = np.asarray(self.tfidf["idf"], dtype=np.float32)
            meta["tfidf"] = self.tfidf["params"]
            vocab = sorted(self.tfidf["vocabulary"].items(), key=lambda kv: kv[1])
            (directory / "vocab.json").write_text(
                json.dumps([t for t, _ in vocab], ensure_ascii=False), encoding="utf-8"
            )
        np.savez_compressed(directory / "weights.npz", **arrays)
        (directory / "head.json").write_text(
            json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )

    @classmethod
    def load(cls, directory: Path) -> HeadArtefact:
        meta = json.loads((directory / "head.json").read_text(encoding="utf-8"))
        with np.load(directory / "weights.npz") as data:
            arrays = {k: data[k] for k in data.files}
        outputs = {}
        for name in meta["outputs"]:
            intercept, a, b = arrays[f"{name}/params"].tolist()
            outputs[name] = LinearOutput(arrays[f"{name}/coef"].astype(np.float64), intercept, a, b)
        tfidf = None
        if meta["tfidf"] is not None:
            terms = json.loads((directory / "vocab.json").read_text(encoding="utf-8"))
            tfidf = {
                "params": meta["tfidf"],
                "vocabulary": {t: i for i, t in enumerate(terms)},
                "idf": arrays["tfidf/idf"].astype(np.float64),
            }
        known = {"head", "version", "kind", "block", "use_encoder", "outputs", "tfidf"}
        return cls(
            head=meta["head"],
            version=meta["version"],
            kind=meta["kind"],
            block=meta["block"],
            outputs=outputs,
            use_encoder=meta["use_encoder"],
            tfidf=tfidf,
            info={k: v for k, v in meta.items() if k not in known | {"calibration"}},
        )
