"""The classifier contract every predictor implements, and the per-conversation predictions it
produces.

Turn heads (politeness, empathy, accuracy) score one agent turn given the customer turns before
it; conversation heads (resolution, satisfaction) score the whole conversation. Sub-outputs are
named ``head.sub`` (e.g. ``empathy.emotional_reactions``). Every value is a calibrated
probability in [0, 1] that the good property holds (polite, empathetic, accurate, resolved,
satisfied).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from qa_scoring.conversation import Conversation

TURN_HEADS = ("politeness", "empathy", "accuracy")
CONVERSATION_HEADS = ("resolution", "satisfaction")


@dataclass(frozen=True)
class TurnInput:
    """One agent turn to score, with the earlier turns that give it meaning."""

    text: str
    context: tuple[str, ...] = ()  # earlier turn texts, oldest first
    language: str | None = None


def answer_contexts(turns: Iterable[tuple[str, str]]) -> Iterator[tuple[int, tuple[str, ...]]]:
    """For each agent turn in ``(role, text)`` pairs: its index and the customer turns it answers
    — those since the previous agent turn, or the last customer turn when the agent speaks twice
    in a row. Serving and training build the heads' context with this one rule."""
    pending: list[str] = []
    last_customer: str | None = None
    for i, (role, text) in enumerate(turns):
        if role == "customer":
            if text:
                pending.append(text)
                last_customer = text
        elif role == "agent":
            yield i, tuple(pending) or ((last_customer,) if last_customer else ())
            pending = []


@runtime_checkable
class Classifier(Protocol):
    """What the scoring pipeline needs from a classifier backend.

    ``versions`` maps each head it serves to the artefact version, recorded on every score.
    ``is_model`` is False only for the lexical fallback, so scores can say which one ran.
    """

    versions: dict[str, str]
    is_model: bool

    def predict_turns(self, items: Sequence[TurnInput]) -> list[dict[str, float]]: ...

    def predict_conversations(
        self, conversations: Sequence[Conversation]
    ) -> list[dict[str, float]]: ...


@dataclass
class Predictions:
    """Model outputs for one conversation, attached before the rule checks run."""

    conversation: dict[str, float] = field(default_factory=dict)
    turns: dict[int, dict[str, float]] = field(default_factory=dict)  # turn index -> head -> p
    versions: dict[str, str] = field(default_factory=dict)
    is_model: bool = True
