"""Conversation metrics: turn counts and response times, stored with every score.

Response times are measured from the customer's point of view: a customer who sends three
messages in a row has been waiting since the first of them. Bot and system turns (welcome
messages, auto-replies) never count as a response.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from qa_scoring.conversation import Conversation


@dataclass(frozen=True)
class ReplyGap:
    """An agent turn answering customer turns, timed from the first unanswered one.

    ``seconds`` is None when either turn has no timestamp.
    """

    customer_turn: int
    agent_turn: int
    seconds: float | None


def reply_gaps(conversation: Conversation) -> list[ReplyGap]:
    """Every customer → agent reply, in order (agent turns with nothing to answer are skipped)."""
    gaps = []
    waiting_since: int | None = None
    for i, turn in enumerate(conversation.turns):
        if turn.role == "customer" and waiting_since is None:
            waiting_since = i
        elif turn.role == "agent" and waiting_since is not None:
            asked = conversation.turns[waiting_since].ts
            seconds = (turn.ts - asked).total_seconds() if turn.ts and asked else None
            gaps.append(ReplyGap(waiting_since, i, seconds))
            waiting_since = None
    return gaps


def conversation_metrics(conversation: Conversation) -> dict[str, Any]:
    """Counts and timings; a time is None when the timestamps it needs are missing.

    ``longest_gap_s`` is the longest a customer waited for an agent, not the longest silence
    between any two turns: a customer stepping away for ten minutes is not a slow agent.
    """
    turns = conversation.turns
    stamped = [t.ts for t in turns if t.ts is not None]
    gaps = reply_gaps(conversation)
    timed = [g.seconds for g in gaps if g.seconds is not None]
    first = gaps[0] if gaps else None
    return {
        "turns": len(turns),
        "agent_turns": len(conversation.agent_turn_indices),
        "customer_turns": len(conversation.customer_turn_indices),
        "duration_s": (stamped[-1] - stamped[0]).total_seconds() if len(stamped) > 1 else None,
        "first_response_s": first.seconds if first else None,
        "avg_response_s": sum(timed) / len(timed) if timed else None,
        "longest_gap_s": max(timed) if timed else None,
    }
