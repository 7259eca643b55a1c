"""The scoring pipeline: conversations in, scores with evidence out.

Model heads run first, batched across every agent turn of every conversation in the call (one
encoder pass per text); then each conversation flows through its rubric's compiled checks, and
the rubric arithmetic turns the results into a Score.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from qa_scoring.checks import Context
from qa_scoring.classify.base import Classifier, Predictions, TurnInput, answer_contexts
from qa_scoring.classify.lexical import LexicalFallback
from qa_scoring.conversation import Conversation
from qa_scoring.metrics import conversation_metrics
from qa_scoring.rubric import Rubric
from qa_scoring.scoring import CriterionResult, Score, Signals, flags_for, tally


def turn_inputs(conversation: Conversation) -> list[tuple[int, TurnInput]]:
    """Each agent turn with the customer turns it answers (see ``answer_contexts``)."""
    turns = conversation.turns
    return [
        (i, TurnInput(turns[i].text, context, conversation.language))
        for i, context in answer_contexts((t.role, t.text) for t in turns)
    ]


class Scorer:
    """Scores conversations against rubrics chosen by language (a rubric without a language
    serves any). Build once; it holds compiled rubrics and the loaded classifier."""

    def __init__(
        self,
        rubrics: Sequence[Rubric],
        classifier: Classifier | None = None,
        policies: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        if not rubrics:
            raise ValueError("a Scorer needs at least one rubric")
        self.rubrics = list(rubrics)
        self.classifier = classifier or LexicalFallback()
        self.policies = dict(policies or {})

    def rubric_for(self, conversation: Conversation) -> Rubric:
        by_language = [r for r in self.rubrics if r.spec.language == conversation.language]
        generic = [r for r in self.rubrics if r.spec.language is None]
        return (by_language or generic or self.rubrics)[0]

    def predict(self, conversations: Sequence[Conversation]) -> list[Predictions]:
        owners, items = [], []
        for ci, conv in enumerate(conversations):
            for turn, item in turn_inputs(conv):
                owners.append((ci, turn))
                items.append(item)
        turn_probs = self.classifier.predict_turns(items) if items else []
        conv_probs = self.classifier.predict_conversations(conversations) if conversations else []
        preds = [
            Predictions(
                conversation=p,
                versions=dict(self.classifier.versions),
                is_model=self.classifier.is_model,
            )
            for p in conv_probs
        ]
        for (ci, turn), probs in zip(owners, turn_probs, strict=True):
            preds[ci].turns[turn] = probs
        return preds

    def score(self, conversation: Conversation) -> Score:
        return self.score_many([conversation])[0]

    def score_many(self, conversations: Sequence[Conversation]) -> list[Score]:
        predictions = self.predict(conversations)
        return [self._score(c, p) for c, p in zip(conversations, predictions, strict=True)]

    def _score(self, conversation: Conversation, predictions: Predictions) -> Score:
        rubric = self.rubric_for(conversation)
        context = Context(predictions, self.policies.get(str(conversation.metadata.get("shop"))))
        results = [
            CriterionResult(
                c.id,
                c.dimension,
                c.points,
                c.critical,
                rubric.checks[c.id].evaluate(conversation, context),
            )
            for c in rubric.spec.criteria
        ]
        t = tally(rubric, results)
        metrics = conversation_metrics(conversation)
        outcome = conversation.outcome
        signals = Signals(
            csat=outcome.csat if outcome else None,
            resolved=outcome.resolved if outcome else None,
            satisfaction=predictions.conversation.get("satisfaction"),
            longest_gap_s=metrics.get("longest_gap_s"),
            agent_turns=metrics["agent_turns"],
        )
        review = rubric.spec.review
        flags = flags_for(review, rubric.spec.pass_mark, t, results, signals)
        reasons = [
            _reason(flag, results, review.min_confidence)
            for flag in flags
            if flag in review.review_flags
        ]
        return Score(
            conversation_id=conversation.id,
            agent_id=conversation.agent_id,
            team=conversation.team,
            language=conversation.language or "en",
            channel=conversation.channel,
            started_at=conversation.started_at,
            overall=t.overall,
            passed=t.passed,
            auto_failed=t.auto_failed,
            dimensions=t.dimensions,
            criteria=results,
            flags=flags,
            needs_review=bool(reasons),
            review_reasons=reasons,
            metrics=metrics,
            rubric=rubric.ref,
            models=predictions.versions,
            predictions={
                "source": "model" if predictions.is_model else "lexical-fallback",
                "conversation": predictions.conversation,
                "turns": {str(k): v for k, v in sorted(predictions.turns.items())},
            },
        )


def _reason(flag: str, results: list[CriterionResult], min_confidence: float) -> str:
    """A flag plus the criteria behind it, e.g. ``auto_fail: forbidden_words``."""
    if flag == "auto_fail":
        ids = [r.criterion for r in results if r.critical and r.result.passed is False]
    elif flag == "low_confidence":
        ids = [
            r.criterion
            for r in results
            if r.result.passed is False and r.result.confidence < min_confidence
        ]
    else:
        return flag
    return f"{flag}: {', '.join(ids)}"
