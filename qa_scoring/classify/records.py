"""``qa-scoring classify``: turn heads over JSONL records, batched, one bad line never stopping
the rest.

Input record: ``{"id", "text", "language"?, "context"?: [earlier turn texts]}``. Output: the same
dict plus ``"scores": {head: p, "head.sub": p}``, or ``{"id", "error": {"field", "reason"}}``
for a record that cannot be scored. Order is kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from qa_scoring.classify.base import Classifier, TurnInput
from qa_scoring.conversation import MAX_TURN_CHARS, detect_language
from qa_scoring.engine import chunked
from qa_scoring.errors import FieldError

LANGUAGES = ("zh", "en")


def to_turn_input(record: Any) -> TurnInput | FieldError:
    """The record as a :class:`TurnInput`, or the first problem found, naming its field."""
    if not isinstance(record, dict):
        return FieldError("(record)", "expected a JSON object")
    if "_error" in record:  # the reader could not parse the line
        return FieldError("(line)", str(record["_error"]))
    rid = record.get("id")
    if not isinstance(rid, str | int) or isinstance(rid, bool) or str(rid) == "":
        return FieldError("id", "missing or not a non-empty string")
    text = record.get("text")
    if not isinstance(text, str) or not text.strip():
        return FieldError("text", "missing, empty or not a string")
    if len(text) > MAX_TURN_CHARS:
        return FieldError("text", f"longer than {MAX_TURN_CHARS} characters")
    context = record.get("context", [])
    if context is None:
        context = []
    if not isinstance(context, list):
        return FieldError("context", "expected a list of earlier turn texts")
    for i, item in enumerate(context):
        if not isinstance(item, str):
            return FieldError(f"context[{i}]", "expected a string")
    language = record.get("language")
    if language is not None and language not in LANGUAGES:
        return FieldError("language", f"expected one of {', '.join(LANGUAGES)}")
    return TurnInput(
        text, tuple(c for c in context if c.strip()), language or detect_language(text)
    )


def classify_records(
    records: Iterable[Any], classifier: Classifier, chunk_size: int = 256
) -> Iterator[dict]:
    """Score records in chunks (one batched encoder pass per chunk), yielding in input order."""
    for chunk in chunked(records, chunk_size):
        parsed = [to_turn_input(r) for r in chunk]
        good = [p for p in parsed if isinstance(p, TurnInput)]
        scores = iter(classifier.predict_turns(good) if good else [])
        for record, p in zip(chunk, parsed, strict=True):
            if isinstance(p, FieldError):
                rid = record.get("id") if isinstance(record, dict) else None
                yield {"id": rid, "error": {"field": p.field, "reason": p.reason}}
            else:
                yield {**record, "scores": next(scores)}
