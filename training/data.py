"""Loaders for the labelled corpora under ``get_settings().data_dir`` (never copied into the repo).

Every loader returns plain records with a ``group`` key: the unit that must not straddle the
train/val/test split (a dialogue id shared by the zh original and its en translation, a seeker
post, a request). See :mod:`training.splits` for how groups become splits.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from qa_scoring.classify.base import answer_contexts
from qa_scoring.config import PROJECT_ROOT, get_settings

EPITOME_FILES = {
    "emotional_reactions": "emotional-reactions-reddit.csv",
    "interpretations": "interpretations-reddit.csv",
    "explorations": "explorations-reddit.csv",
}
USS_FILES = ("SGD", "MWOZ", "ReDial", "CCPE")
ZH_LABELLED = PROJECT_ROOT / "tests" / "data" / "zh_labelled_turns.jsonl"


@dataclass
class TurnExample:
    """An agent turn with the customer turns before it and its labels."""

    text: str
    context: tuple[str, ...]
    language: str
    group: str
    labels: dict[str, float] = field(default_factory=dict)


@dataclass
class Dialogue:
    """A whole conversation as (role, text) turns, role in {"customer", "agent"}."""

    turns: list[tuple[str, str]]
    language: str
    group: str
    source: str
    labels: dict[str, float] = field(default_factory=dict)


def _data_dir(data_dir: Path | None) -> Path:
    return Path(data_dir) if data_dir else get_settings().data_dir


def load_politeness(data_dir: Path | None = None) -> list[TurnExample]:
    """Stanford Politeness (Wikipedia): label = Normalized Score (z-scored mean; > 0 is polite)."""
    path = _data_dir(data_dir) / "politeness_wikipedia" / "wikipedia.annotated.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        return [
            TurnExample(
                text=row["Request"],
                context=(),
                language="en",
                group=f"pol-{row['Id']}",
                labels={"score": float(row["Normalized Score"])},
            )
            for row in csv.DictReader(fh)
        ]


def load_epitome(data_dir: Path | None = None) -> list[TurnExample]:
    """EPITOME Reddit: one example per (seeker post, response) with levels 0/1/2 for the three
    mechanisms; the seeker post is the context. Grouped by seeker post."""
    root = _data_dir(data_dir) / "epitome_reddit"
    merged: dict[tuple[str, str], TurnExample] = {}
    for mechanism, name in EPITOME_FILES.items():
        with (root / name).open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                key = (row["sp_id"], row["rp_id"])
                ex = merged.setdefault(
                    key,
                    TurnExample(
                        text=row["response_post"],
                        context=(row["seeker_post"],),
                        language="en",
                        group=f"ep-{row['sp_id']}",
                    ),
                )
                ex.labels[mechanism] = float(row["level"])
    return [ex for ex in merged.values() if len(ex.labels) == len(EPITOME_FILES)]


def _stc3_turn_text(turn: dict) -> str:
    return " ".join(u.strip() for u in turn["utterances"] if u.strip())


def _majority(labels: list[str]) -> str:
    return Counter(labels).most_common(1)[0][0]


@lru_cache(maxsize=4)
def _stc3_raw(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))


def load_stc3(data_dir: Path | None = None) -> list[Dialogue]:
    """STC-3 DCH-1 zh + en. Dialogue labels: mean A/S/E over the 19 annotators (-2..2).

    Empty turns (uncrawled pictures/emoji) are dropped; turn-level nugget labels are read by
    :func:`stc3_helpdesk_turns`.
    """
    root = _data_dir(data_dir) / "stc3_dch1"
    out = []
    for lang, name in (("zh", "train_data_cn.json"), ("en", "train_data_en.json")):
        for item in _stc3_raw(root / name):
            anns = item["annotations"]
            turns = [
                ("customer" if t["sender"] == "customer" else "agent", _stc3_turn_text(t))
                for t in item["turns"]
            ]
            labels = {q: float(np.mean([a["quality"][q] for a in anns])) for q in "ASE"}
            out.append(
                Dialogue(
                    turns=[t for t in turns if t[1]],
                    language=lang,
                    group=f"stc-{item['id']}",
                    source="stc3",
                    labels=labels,
                )
            )
    return out


def stc3_helpdesk_turns(data_dir: Path | None = None) -> list[TurnExample]:
    """Helpdesk turns of STC-3 with their nugget votes.

    ``informative`` = share of the 19 annotators who marked the turn a nugget (HNUG or HNUG*,
    i.e. it carries information towards solving the problem) rather than HNaN; context = the
    customer turns since the previous helpdesk turn, or the last customer turn when the
    helpdesk speaks twice (``answer_contexts``, the rule serving uses).
    """
    root = _data_dir(data_dir) / "stc3_dch1"
    out = []
    for lang, name in (("zh", "train_data_cn.json"), ("en", "train_data_en.json")):
        for item in _stc3_raw(root / name):
            anns = item["annotations"]
            texts = [_stc3_turn_text(turn) for turn in item["turns"]]
            roles = ["customer" if t["sender"] == "customer" else "agent" for t in item["turns"]]
            for i, context in answer_contexts(zip(roles, texts, strict=True)):
                votes = [a["nugget"][i] for a in anns]
                if texts[i] and context:
                    out.append(
                        TurnExample(
                            text=texts[i],
                            context=context,
                            language=lang,
                            group=f"stc-{item['id']}",
                            labels={
                                "informative": float(np.mean([v != "HNaN" for v in votes])),
                                "goal": float(np.mean([v == "HNUG*" for v in votes])),
                            },
                        )
                    )
    return out


def load_uss(data_dir: Path | None = None) -> list[Dialogue]:
    """USS English sets: dialogue-level OVERALL satisfaction (mean of annotators, 1..5)."""
    root = _data_dir(data_dir) / "uss_en"
    out = []
    for source in USS_FILES:
        sessions = (root / f"{source}.txt").read_text(encoding="utf-8").split("\n\n")
        for n, session in enumerate(s for s in sessions if s.strip()):
            turns: list[tuple[str, str]] = []
            overall = None
            for line in session.strip("\n").split("\n"):
                parts = line.split("\t")
                role, text = parts[0], parts[1].strip()
                if role == "USER" and text == "OVERALL":
                    overall = float(np.mean([int(s) for s in parts[3].split(",") if s.strip()]))
                elif text:
                    turns.append(("customer" if role == "USER" else "agent", text))
            if overall is not None and turns:
                out.append(
                    Dialogue(
                        turns=turns,
                        language="en",
                        group=f"uss-{source}-{n}",
                        source=source,
                        labels={"overall": overall},
                    )
                )
    return out


def load_zh_labelled(path: Path = ZH_LABELLED) -> list[TurnExample]:
    """The hand-labelled zh evaluation set (politeness 0/1, empathy 0/1/2); evaluation only."""
    if not path.is_file():
        return []
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return [
        TurnExample(
            text=r["text"],
            context=tuple(r.get("context") or ()),
            language="zh",
            group=r["id"],
            labels={"politeness": float(r["politeness"]), "empathy": float(r["empathy"])},
        )
        for r in rows
    ]
