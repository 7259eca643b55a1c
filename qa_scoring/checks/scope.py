"""Role and position anchors: which turns a check looks at.

``after`` makes the scope relative to another check's hits (e.g. "within 2 agent turns after a
customer turn that complains"), so anchors compose with every check type, models included.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from qa_scoring.checks.base import Check, Context, Params, build_check
from qa_scoring.conversation import Conversation


class ScopeParams(Params):
    role: Literal["agent", "customer", "bot", "system", "any"] = "agent"
    position: Literal["any", "first", "last"] = "any"
    count: int = Field(default=1, ge=1, description="how many turns 'first'/'last' take")
    after: dict[str, Any] | None = Field(
        default=None, description="a check spec; only turns after one of its hits are in scope"
    )
    within: int = Field(default=2, ge=1, description="with 'after': how many turns of `role`")


class Scope:
    def __init__(self, params: ScopeParams, path: str) -> None:
        self.params = params
        self.trigger: Check | None = (
            build_check(params.after, f"{path}.after") if params.after is not None else None
        )

    def select(self, conversation: Conversation, context: Context) -> list[int] | None:
        """Turn indices in scope, or None when an ``after`` trigger never fired (→ N/A)."""
        p = self.params
        turns = [i for i, t in enumerate(conversation.turns) if p.role in ("any", t.role)]
        if self.trigger is not None:
            fired = sorted({h.turn for h in self.trigger.evaluate(conversation, context).hits})
            if not fired:
                return None
            selected: set[int] = set()
            for start in fired:
                selected.update([i for i in turns if i > start][: p.within])
            turns = sorted(selected)
        if p.position == "first":
            return turns[: p.count]
        if p.position == "last":
            return turns[-p.count :]
        return turns
