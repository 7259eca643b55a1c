"""The conversation document: validated once where it enters, then read by every check.

One :class:`Conversation` flows through the whole pipeline (parsing → checks → classifiers →
scoring → storage). Texts are kept byte-for-byte as received, because evidence spans are
character offsets into them.
"""

from __future__ import annotations

import itertools
import re
from datetime import datetime
from functools import cached_property
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from qa_scoring.errors import FieldError, InputError

Role = Literal["customer", "agent", "bot", "system"]
Channel = Literal["chat", "email", "call"]
Language = Literal["zh", "en"]

MAX_TURNS = 1000
MAX_TURN_CHARS = 20_000
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")


def detect_language(text: str) -> Language:
    """zh when CJK characters make up a real share of the letters, else en.

    Chinese chats mix in order numbers, SKUs and English brand names, so a plain majority vote
    over characters would misfire; a CJK share above 15% of letters is reliably Chinese.
    """
    cjk = len(_CJK.findall(text))
    latin_words = len(_LATIN.findall(text)) / 5  # ~5 letters per English word ≈ 1 hanzi
    return "zh" if cjk and cjk / (cjk + latin_words) > 0.15 else "en"


class Turn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    role: Role
    text: str = Field(max_length=MAX_TURN_CHARS)
    ts: datetime | None = None

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("text is empty")
        return value


class Outcome(BaseModel):
    """Ground truth from the helpdesk, when it has it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    csat: int | None = Field(default=None, ge=1, le=5)
    resolved: bool | None = None
    converted: bool | None = None


class Conversation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=200)
    channel: Channel = "chat"
    language: Language | None = None
    agent_id: str = Field(min_length=1, max_length=200)
    team: str | None = Field(default=None, max_length=200)
    metadata: dict[str, Any] = Field(default_factory=dict)
    turns: list[Turn] = Field(min_length=1, max_length=MAX_TURNS)
    outcome: Outcome | None = None

    @model_validator(mode="after")
    def _check_turns(self) -> Conversation:
        stamped = [(i, t.ts) for i, t in enumerate(self.turns) if t.ts is not None]
        if len({ts.tzinfo is None for _, ts in stamped}) > 1:
            raise ValueError("turns mix timestamps with and without a UTC offset")
        for (_, earlier), (i, later) in itertools.pairwise(stamped):
            if later < earlier:
                raise ValueError(
                    f"turns[{i}].ts is earlier than the turn before it "
                    "(turns must be in time order)"
                )
        if self.language is None:
            self.language = detect_language(" ".join(t.text for t in self.turns))
        return self

    @cached_property
    def agent_turn_indices(self) -> list[int]:
        return [i for i, t in enumerate(self.turns) if t.role == "agent"]

    @cached_property
    def customer_turn_indices(self) -> list[int]:
        return [i for i, t in enumerate(self.turns) if t.role == "customer"]

    @property
    def started_at(self) -> datetime | None:
        return next((t.ts for t in self.turns if t.ts is not None), None)

    @classmethod
    def parse(cls, data: Any, location: str | None = None) -> Conversation:
        """Validate raw data, turning pydantic's errors into an :class:`InputError`."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            conv_id = data.get("id") if isinstance(data, dict) else None
            raise InputError(
                field_errors(exc),
                conversation_id=conv_id if isinstance(conv_id, str) else None,
                location=location,
            ) from None


def field_errors(exc: ValidationError, root: str = "(conversation)") -> list[FieldError]:
    """pydantic's error list as dotted field paths (``turns[2].role``) with readable reasons."""
    out = []
    for err in exc.errors():
        path = ""
        for part in err["loc"]:
            path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
        reason = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            reason = "unknown field"
        out.append(FieldError(path or root, reason))
    return out
