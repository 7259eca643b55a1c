"""Plain functions that score and store conversations: the CLI, the API and the Celery tasks are
thin layers over these."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from qa_scoring.config import Settings
from qa_scoring.conversation import Conversation
from qa_scoring.engine import chunked
from qa_scoring.errors import InputError
from qa_scoring.parsing import Parsed
from qa_scoring.pipeline import Scorer
from qa_scoring.scoring import Score
from qa_scoring.storage import repository
from qa_scoring.storage.db import migrate, session_factory


def score_conversations(
    scorer: Scorer,
    conversations: Sequence[Conversation],
    *,
    session: Session | None = None,
    tenant: str,
) -> list[Score]:
    """Score one batch (the encoder batches across it) and, given a session, store each
    conversation and its score in the caller's transaction."""
    scores = scorer.score_many(conversations)
    if session is not None:
        for conv, score in zip(conversations, scores, strict=True):
            repository.save_conversation(session, tenant, conv)
            repository.save_score(session, tenant, score)
    return scores


@dataclass
class ScoreRun:
    scores: list[Score] = field(default_factory=list)
    rejected: list[InputError] = field(default_factory=list)
    conversations: dict[str, Conversation] = field(default_factory=dict)


def score_records(
    scorer: Scorer,
    records: Iterable[Parsed],
    *,
    settings: Settings,
    store: bool,
    tenant: str,
    batch_size: int = 64,
    on_batch: Callable[[int], None] = lambda n: None,
) -> ScoreRun:
    """Score parsed records batch by batch; bad records are collected, never fatal."""
    run = ScoreRun()
    sessions = None
    if store:
        migrate(settings.database_url)
        sessions = session_factory(settings.database_url)
    for chunk in chunked(records, batch_size):
        good = [r for r in chunk if isinstance(r, Conversation)]
        run.rejected.extend(r for r in chunk if isinstance(r, InputError))
        if sessions is None:
            run.scores.extend(score_conversations(scorer, good, tenant=tenant))
        else:
            with sessions.begin() as session:
                run.scores.extend(score_conversations(scorer, good, session=session, tenant=tenant))
        run.conversations.update((c.id, c) for c in good)
        on_batch(len(chunk))
    return run
