"""Domain exceptions. Each names what was wrong and where, so every edge (CLI, API, tasks) can
report it without a traceback."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    """One problem with one field: ``field`` is a dotted path such as ``turns[3].ts``."""

    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}"


class QAScoringError(Exception):
    """Base of every error this library raises on purpose."""


class InputError(QAScoringError):
    """A conversation (or a line of an input file) that cannot be accepted."""

    def __init__(
        self,
        errors: list[FieldError],
        conversation_id: str | None = None,
        location: str | None = None,
    ) -> None:
        self.errors = errors
        self.conversation_id = conversation_id
        self.location = location  # e.g. "line 7" of an input file
        super().__init__(self.describe())

    def describe(self) -> str:
        where = ", ".join(
            p
            for p in (
                self.location,
                self.conversation_id and f"conversation {self.conversation_id}",
            )
            if p
        )
        body = "; ".join(str(e) for e in self.errors)
        return f"{where}: {body}" if where else body

    def as_dict(self) -> dict:
        return {
            "conversation_id": self.conversation_id,
            "location": self.location,
            "errors": [{"field": e.field, "reason": e.reason} for e in self.errors],
        }


class RubricError(QAScoringError):
    """A rubric file that does not validate; ``errors`` name the offending paths."""

    def __init__(self, source: str, errors: list[FieldError]) -> None:
        self.source = source
        self.errors = errors
        super().__init__(f"{source}: " + "; ".join(str(e) for e in errors))


class NotFound(QAScoringError):
    """A stored object (conversation, score, rubric version…) that does not exist."""
