"""Rules-only scoring throughput on this machine, and the phrase matcher vs a naive baseline.

    .venv/bin/python bench/bench_rules.py [--n 2000]

Scores the shipped examples (replicated to --n conversations) with the shipped rubrics and the
lexical fallback in place of the model heads (so only rule work is timed), then times every
keyword check of the rubrics two ways over the same turns: the Aho-Corasick automaton the
product uses vs a loop of `in` tests per phrase. Both are measured in this one run.
"""

from __future__ import annotations

import argparse
import time

from qa_scoring.checks.text import KeywordCheck
from qa_scoring.classify.lexical import LexicalFallback
from qa_scoring.config import get_settings
from qa_scoring.conversation import Conversation
from qa_scoring.engine import build_scorer, chunked
from qa_scoring.parsing import read_conversations


def keyword_checks(check: object) -> list[KeywordCheck]:
    """Every KeywordCheck in a compiled check tree (children, steps, triggers, scopes)."""
    found = [check] if isinstance(check, KeywordCheck) else []
    for value in vars(check).values():
        items = value if isinstance(value, list) else [value]
        for item in items:
            if hasattr(item, "evaluate") or hasattr(item, "trigger"):
                found += keyword_checks(item)
    return found


def naive_find(phrases: list[str], text: str) -> int:
    lowered = text.lower()
    return sum(lowered.count(p.lower()) for p in phrases)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    args = parser.parse_args()
    settings = get_settings()
    base = [c for c in read_conversations(settings.examples_dir / "conversations.jsonl")
            if isinstance(c, Conversation)]
    convs = [base[i % len(base)].model_copy(update={"id": f"{base[i % len(base)].id}-{i}"})
             for i in range(args.n)]
    scorer = build_scorer(settings, classifier=LexicalFallback())

    start = time.perf_counter()
    for chunk in chunked(convs, 64):
        scorer.score_many(chunk)
    elapsed = time.perf_counter() - start

    checks = [k for r in scorer.rubrics for c in r.checks.values() for k in keyword_checks(c)]
    texts = [t.text for c in convs for t in c.turns]
    t0 = time.perf_counter()
    ours = sum(len(k.find(text)) for k in checks for text in texts)
    t1 = time.perf_counter()
    naive = sum(naive_find(k.params.phrases, text) for k in checks for text in texts)
    t2 = time.perf_counter()

    print(f"rules-only scoring: {args.n} conversations ({len(texts)} turns) in {elapsed:.2f} s "
          f"= {args.n / elapsed:.0f} conversations/s")
    print(f"{'phrase matching':<28}{'seconds':>10}{'turns/s':>12}{'matches':>10}")
    print(f"{'Aho-Corasick (ours)':<28}{t1 - t0:>10.3f}{len(texts) / (t1 - t0):>12.0f}{ours:>10}")
    print(f"{'loop of `in` (baseline)':<28}{t2 - t1:>10.3f}{len(texts) / (t2 - t1):>12.0f}"
          f"{naive:>10}")
    print("(baseline ignores word boundaries, so it may count more matches)")


if __name__ == "__main__":
    main()
