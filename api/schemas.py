"""Pydantic models of what enters (bodies, query strings) and what leaves (documented shapes)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from qa_scoring.webhooks import EVENTS


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Page(_In):
    page: int = Field(default=1, ge=1, le=1_000_000)  # keeps the SQL offset in range
    per_page: int = Field(default=50, ge=1, le=500)


class ConversationQuery(Page):
    agent_id: str | None = None
    team: str | None = None
    since: AwareDatetime | None = Field(default=None, description="conversation start, inclusive")
    until: AwareDatetime | None = Field(default=None, description="conversation start, exclusive")
    flag: str | None = Field(default=None, description="e.g. auto_fail, long_wait")
    needs_review: bool | None = None


class EvaluationQuery(_In):
    period: Literal["week", "month", "quarter"] = "month"
    since: AwareDatetime | None = None
    until: AwareDatetime | None = None


class ActivateRubric(_In):
    version: str = Field(pattern=r"^\d+(\.\d+){0,2}$")


class WebhookIn(_In):
    url: str = Field(pattern=r"^https?://", max_length=2000)
    secret: str = Field(min_length=16, max_length=200)
    events: list[Literal[EVENTS]] = Field(default=list(EVENTS), min_length=1)  # type: ignore[valid-type]


# ---- documented responses ----------------------------------------------------------------------


class ScoreDocument(BaseModel):
    """``Score.to_dict()``: every criterion with its evidence (turn index + character offsets)."""

    conversation_id: str
    agent_id: str
    team: str | None
    language: str
    channel: str
    started_at: str | None
    overall: float
    passed: bool
    auto_failed: bool
    dimensions: dict[str, float | None]
    criteria: list[dict[str, Any]]
    flags: list[str]
    needs_review: bool
    review_reasons: list[str]
    metrics: dict[str, Any]
    rubric: dict[str, str]
    models: dict[str, str]
    predictions: dict[str, Any]


class BatchAccepted(BaseModel):
    id: str
    state: str
    total: int
    accepted: int
    invalid: int
    status_url: str
    results_url: str


class ItemError(BaseModel):
    index: int
    location: str | None
    conversation_id: str | None
    errors: list[dict[str, str]] | None


class BatchStatus(BaseModel):
    id: str
    state: Literal["queued", "running", "done"]
    total: int
    scored: int
    failed: int = Field(description="invalid at submission plus failed while scoring")
    pending: int
    invalid: int
    created_at: str
    finished_at: str | None
    errors: list[ItemError]


class BatchResultItem(BaseModel):
    index: int
    conversation_id: str | None
    state: str
    score: ScoreDocument | None
    errors: list[dict[str, str]] | None


class BatchResults(BaseModel):
    batch_id: str
    page: int
    per_page: int
    total: int
    items: list[BatchResultItem]


class ScoreSummary(BaseModel):
    score_id: int
    conversation_id: str
    agent_id: str
    team: str | None
    rubric: dict[str, str]
    overall: float
    passed: bool
    auto_failed: bool
    needs_review: bool
    flags: list[str]
    dimensions: dict[str, float | None]
    started_at: str | None
    scored_at: str


class ConversationList(BaseModel):
    page: int
    per_page: int
    items: list[ScoreSummary]


class ConversationWithScores(BaseModel):
    conversation: dict[str, Any]
    scores: list[ScoreDocument]


class Evaluations(BaseModel):
    period: str
    evaluations: list[dict[str, Any]]


class RubricInfo(BaseModel):
    rubric_id: str
    version: str
    language: str | None = None
    source: Literal["shipped", "tenant"]
    active: bool
    created_at: str | None = None


class RubricList(BaseModel):
    items: list[RubricInfo]


class RubricText(RubricInfo):
    text: str


class WebhookOut(BaseModel):
    id: int
    url: str
    events: list[str]
    created_at: str


class WebhookList(BaseModel):
    items: list[WebhookOut]
