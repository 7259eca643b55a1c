"""Default wiring: the shipped rubrics, the serving classifier (or the labelled fallback) and the
shop policies, assembled into one Scorer. The CLI, the API and the workers all start here."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from pathlib import Path
from typing import TypeVar

from qa_scoring.classify.base import Classifier
from qa_scoring.classify.lexical import LexicalFallback
from qa_scoring.classify.registry import load_classifier
from qa_scoring.config import Settings, get_settings
from qa_scoring.pipeline import Scorer
from qa_scoring.policy import load_policies
from qa_scoring.rubric import load_rubric, load_rubrics

log = logging.getLogger(__name__)
T = TypeVar("T")


def default_classifier(settings: Settings) -> Classifier:
    """The serving heads. ``QA_SCORING_CLASSIFIER=lexical`` asks for the lexical fallback
    instead: fast tests and benchmarks of the service path itself."""
    if settings.classifier == "lexical":
        return LexicalFallback()
    classifier = load_classifier(settings)
    if classifier is None:
        log.warning(
            "no trained heads or backbone found; using the lexical fallback "
            "(run `qa-scoring backbone build`) — its verdicts go to review"
        )
        return LexicalFallback()
    return classifier


def build_scorer(
    settings: Settings | None = None,
    rubric_paths: Sequence[str | Path] = (),
    classifier: Classifier | None = None,
) -> Scorer:
    """A Scorer over the given rubric files, or every shipped rubric when none are given."""
    settings = settings or get_settings()
    rubrics = (
        [load_rubric(p) for p in rubric_paths]
        if rubric_paths
        else load_rubrics(settings.rubrics_dir)
    )
    policies = load_policies(settings.policies_dir) if settings.policies_dir.is_dir() else {}
    return Scorer(
        rubrics,
        classifier or default_classifier(settings),
        {shop: p.model_dump() for shop, p in policies.items()},
    )


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Fixed-size chunks, so the encoder batches across conversations without holding a whole
    file in memory."""
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk
