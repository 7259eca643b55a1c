"""The fixed train / val / test split, by group.

A group (dialogue id, seeker post id, request id) goes wholly to one split, chosen by a salted
SHA-1 of its id: stable across runs, machines and data re-orderings, and independent of which
other rows exist. STC-3's English dialogues are translations of Chinese ones and share their id,
so a dialogue and its translation always land on the same side. Shares: 70 / 15 / 15.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Literal, TypeVar

Split = Literal["train", "val", "test"]
SALT = "qa-scoring-split-v1"
SHARES = (("train", 0.70), ("val", 0.15), ("test", 0.15))

T = TypeVar("T")


def split_of(group: str) -> Split:
    h = int.from_bytes(hashlib.sha1(f"{SALT}:{group}".encode()).digest()[:8], "big") / 2**64
    edge = 0.0
    for name, share in SHARES:
        edge += share
        if h < edge:
            return name  # type: ignore[return-value]
    return "test"


def split_items(items: Sequence[T]) -> dict[Split, list[T]]:
    """Items with a ``group`` attribute partitioned into the three splits (order kept)."""
    out: dict[Split, list[T]] = {"train": [], "val": [], "test": []}
    for item in items:
        out[split_of(item.group)].append(item)  # type: ignore[attr-defined]
    return out
