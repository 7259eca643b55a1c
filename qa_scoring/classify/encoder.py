"""The model classifier: one multilingual-e5-small pass per text feeds every head.

:class:`TextEncoder` turns texts into encoder features (mean-pooled hidden states of a few
layers, see ``heads.LAYERS``), sorting by length to cut padding and batching across all turns
of all conversations it is given. :class:`EncoderClassifier` keeps a bounded text → features
cache, so the conversation heads reuse the vectors the turn heads just computed instead of
encoding the same turns again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from qa_scoring.classify.base import TurnInput
from qa_scoring.classify.heads import (
    DIM,
    LAYERS,
    PREFIX,
    HeadArtefact,
    conversation_features,
    conversation_text,
    turn_features,
)
from qa_scoring.conversation import Conversation

ROLES = {"customer": "customer", "agent": "agent", "bot": "agent"}  # system turns are not speech


class TextEncoder:
    """Texts → (n, DIM) float32 features; texts longer than one window are split into windows
    whose means are averaged, weighted by token count (so the whole text counts)."""

    def __init__(self, backbone_dir: Path | None = None, batch_size: int = 32) -> None:
        self.backbone_dir = backbone_dir
        self.batch_size = batch_size
        self._model: tuple[Any, Any] | None = None

    def _load(self) -> tuple[Any, Any]:
        if self._model is None:
            from qa_scoring.backbone import load_backbone

            self._model = load_backbone(self.backbone_dir)
        return self._model

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        from qa_scoring.backbone import pooled_states

        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        tokenizer, model = self._load()
        states = pooled_states(
            tokenizer, model, texts, prefix=PREFIX, layers=LAYERS, batch_size=self.batch_size
        )
        return states.reshape(len(texts), DIM).astype(np.float32)


class EncoderClassifier:
    """Serves the loaded heads; satisfies :class:`qa_scoring.classify.base.Classifier`."""

    is_model = True

    def __init__(
        self,
        heads: dict[str, HeadArtefact],
        encoder: TextEncoder | None = None,
        cache_size: int = 4096,  # ~19 MB; a batch of conversations fits, reuse is within it
    ) -> None:
        self.heads = heads
        self.encoder = encoder or TextEncoder()
        self.cache_size = cache_size
        self.versions = {name: h.version for name, h in heads.items()}
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def _features(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """Features for the distinct ``texts``: cached ones reused, the rest encoded in one
        batched pass."""
        unique = list(dict.fromkeys(texts))
        with self._lock:
            found = {t: self._cache[t] for t in unique if t in self._cache}
        missing = [t for t in unique if t not in found]
        if missing:
            vecs = self.encoder.encode(missing)
            found |= dict(zip(missing, vecs, strict=True))
            with self._lock:
                for t, v in zip(missing, vecs, strict=True):
                    self._cache[t] = v
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
        return found

    def _turn_heads(self) -> list[HeadArtefact]:
        return [h for h in self.heads.values() if h.kind == "turn"]

    def _conversation_heads(self) -> list[HeadArtefact]:
        return [h for h in self.heads.values() if h.kind == "conversation"]

    def predict_turns(self, items: Sequence[TurnInput]) -> list[dict[str, float]]:
        out: list[dict[str, float]] = [{} for _ in items]
        heads = self._turn_heads()
        if not items or not heads:
            return out
        vecs = self._features([t for item in items for t in (item.text, *item.context)])
        text_vecs = np.stack([vecs[item.text] for item in items])
        context_vecs = np.stack(
            [
                np.mean([vecs[c] for c in item.context], axis=0) if item.context else np.zeros(DIM)
                for item in items
            ]
        )
        texts = [item.text for item in items]
        for head in heads:
            x = turn_features(text_vecs, context_vecs, head.block) if head.use_encoder else None
            for name, probs in head.predict(x, texts).items():
                for row, p in zip(out, probs, strict=True):
                    row[name] = float(p)
        return out

    def predict_conversations(
        self, conversations: Sequence[Conversation]
    ) -> list[dict[str, float]]:
        out: list[dict[str, float]] = [{} for _ in conversations]
        heads = self._conversation_heads()
        if not conversations or not heads:
            return out
        turns = [
            [(ROLES[t.role], t.text) for t in conv.turns if t.role in ROLES]
            for conv in conversations
        ]
        vecs = self._features([text for conv in turns for _, text in conv])
        x = np.stack([conversation_features([(r, vecs[t]) for r, t in conv]) for conv in turns])
        texts = [conversation_text(conv) for conv in turns]
        for head in heads:
            for name, probs in head.predict(x if head.use_encoder else None, texts).items():
                for row, p in zip(out, probs, strict=True):
                    row[name] = float(p)
        return out
