"""Examples → (encoder features, texts for TF-IDF), with the same builders serving uses."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from qa_scoring.classify.heads import DIM, conversation_features, conversation_text, turn_features
from training.data import Dialogue
from training.embeddings import EmbeddingCache
from training.tasks import Example, Task


def all_texts(examples: Sequence[Example]) -> list[str]:
    """Every text the encoder must see for these examples (turns and their contexts)."""
    out: list[str] = []
    for ex in examples:
        if isinstance(ex, Dialogue):
            out += [t for _, t in ex.turns]
        else:
            out += [ex.text, *ex.context]
    return out


def build(
    task: Task, examples: Sequence[Example], cache: EmbeddingCache, block: str
) -> tuple[np.ndarray, list[str]]:
    texts = all_texts(examples)
    vecs = dict(zip(texts, cache.get(texts, f"encoding {task.head}"), strict=True))
    if task.kind == "conversation":
        x = [conversation_features([(r, vecs[t]) for r, t in ex.turns]) for ex in examples]
        return np.stack(x), [conversation_text(ex.turns) for ex in examples]
    text_vecs = np.stack([vecs[ex.text] for ex in examples])
    ctx = np.stack(
        [
            np.mean([vecs[c] for c in ex.context], axis=0) if ex.context else np.zeros(DIM)
            for ex in examples
        ]
    )
    return turn_features(text_vecs, ctx, block), [ex.text for ex in examples]
