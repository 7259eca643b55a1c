"""Frozen-encoder features (``TextEncoder``, the code serving runs), cached on disk so a rerun
(or another head) never encodes a text twice.

The cache lives under ``get_settings().cache_dir / "embeddings" / <backbone + recipe id>``, in
append-only shards of at most ``shard_size`` vectors: an interrupted run loses one shard at most
and resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from rich.progress import Progress

from qa_scoring.backbone import WINDOW
from qa_scoring.classify.encoder import TextEncoder
from qa_scoring.classify.heads import DIM, LAYERS, PREFIX
from qa_scoring.config import get_settings


def backbone_fingerprint(backbone_dir: Path | None = None) -> str:
    """Short id of the converted weights + tokenizer (from the build manifest's checksums)."""
    root = backbone_dir or get_settings().backbone_dir
    files = json.loads((root / "BUILD.json").read_text())["files"]
    digest = hashlib.sha256(
        (files["model.safetensors"] + files["tokenizer.json"]).encode()
    ).hexdigest()
    return digest[:16]


def _cache_name() -> str:
    """Cache folder: backbone fingerprint + feature recipe (prefix, layers, windowing)."""
    recipe = hashlib.sha1(f"{PREFIX}|{LAYERS}|{WINDOW}".encode()).hexdigest()[:8]
    return f"{backbone_fingerprint()}-{recipe}"


def _key(text: str) -> str:
    return hashlib.sha1((PREFIX + text).encode("utf-8")).hexdigest()


class EmbeddingCache:
    """Text → encoder features backed by ``.npz`` shards."""

    def __init__(
        self,
        root: Path | None = None,
        shard_size: int = 2048,
        encoder: TextEncoder | None = None,
    ) -> None:
        self.encoder = encoder or TextEncoder()
        self.root = root or get_settings().cache_dir / "embeddings" / _cache_name()
        self.shard_size = shard_size
        self.root.mkdir(parents=True, exist_ok=True)
        self._vectors: dict[str, np.ndarray] = {}
        for shard in sorted(self.root.glob("shard-*.npz")):
            with np.load(shard) as data:
                self._vectors.update(zip(data["keys"].tolist(), data["vectors"], strict=True))

    def __len__(self) -> int:
        return len(self._vectors)

    def get(self, texts: Sequence[str], label: str = "encoding") -> np.ndarray:
        """Vectors for ``texts`` (order kept), encoding only the ones not cached yet."""
        keys = [_key(t) for t in texts]
        todo = {k: t for k, t in zip(keys, texts, strict=True) if k not in self._vectors}
        if todo:
            items = sorted(todo.items(), key=lambda kv: len(kv[1]))  # similar lengths per shard
            with Progress(transient=True) as progress:
                task = progress.add_task(label, total=len(items))
                for start in range(0, len(items), self.shard_size):
                    chunk = items[start : start + self.shard_size]
                    vectors = self.encoder.encode([t for _, t in chunk])
                    self._save([k for k, _ in chunk], vectors)
                    progress.advance(task, len(chunk))
        if not keys:
            return np.zeros((0, DIM), dtype=np.float32)
        return np.stack([self._vectors[k] for k in keys])

    def _save(self, keys: list[str], vectors: np.ndarray) -> None:
        n = len(list(self.root.glob("shard-*.npz")))
        tmp = self.root / f".shard-{n:05d}.tmp.npz"
        np.savez(tmp, keys=np.array(keys), vectors=vectors.astype(np.float32))
        tmp.rename(self.root / f"shard-{n:05d}.npz")
        self._vectors.update(zip(keys, vectors, strict=True))
