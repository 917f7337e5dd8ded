"""What the store keeps, as plain data: the contract between the pipeline, the store, the report and the server.

Times are timezone-aware UTC datetimes. JSON-ish fields are plain dicts/lists.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

ReviewStatus = Literal["pending", "approved", "edited", "rejected", "expired"]
Decision = Literal["approved", "edited", "rejected"]


class RequestRecord(BaseModel):
    """One answer guard gave (or failed to give): the raw material of telemetry and the health report."""

    request_id: str
    created_at: datetime
    product: str
    model_requested: str | None = None
    model_served: str | None = None
    streamed: bool = False
    tier: str | None = None  # None when the call failed before a verdict
    confidence: float | None = None
    signals: dict[str, float] = Field(default_factory=dict)
    layers: dict[str, Any] = Field(default_factory=dict)  # name -> {"status", "ms", "reason"}
    citations: list[dict[str, Any]] = Field(default_factory=list)
    unsupported: list[dict[str, Any]] = Field(default_factory=list)
    latency_total_ms: float | None = None
    latency_model_ms: float | None = None
    latency_guard_ms: float | None = None
    ttft_ms: float | None = None  # streams only
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = None  # the answer's model cost; None when the price is unknown
    samples_cost_usd: float | None = None  # extra self-consistency samples
    verification_cost_usd: float = 0.0  # judge / verifier model calls
    error_class: str | None = None  # set when the call failed; failed calls are recorded too
    error_message: str | None = None
    review_id: str | None = None
    review_policy: str | None = None
    question: str | None = None
    answer: str | None = None  # the draft as the model wrote it (PII-redacted when configured)
    delivered: bool = True  # False when a held draft was replaced by the holding message, or the client left
    key_name: str | None = None  # the proxy's API key it came in with, by name (server.keys)
    calibration_id: str | None = None  # the support calibration in force (guard.calibration), None: shipped
    experiment: str | None = None  # the experiment the request took part in, and its variant
    variant: str | None = None
    user: str | None = None  # the app's user (OpenAI `user` field or x-guard-user header), when given


class ReviewItem(BaseModel):
    """A draft waiting for (or decided by) a person."""

    id: str
    request_id: str
    created_at: datetime
    expires_at: datetime | None = None
    policy: Literal["flag", "block"]
    tier: str
    confidence: float | None = None
    model: str | None = None
    question: str | None = None
    draft: str
    # signals, layers, citations, unsupported, and sources as [{"id", "title", "text"}]
    context: dict[str, Any] = Field(default_factory=dict)
    status: ReviewStatus = "pending"
    final_text: str | None = None
    reviewer: str | None = None
    reason: str | None = None
    decided_at: datetime | None = None
    edit_distance: float | None = None  # normalised 0..1 between draft and final_text, for edited items
    audit: bool = False  # sampled from unflagged answers to count what guard missed (never held for it)
    key_name: str | None = None  # the API key the request came in with: only it (or an admin) reads the outcome
    conversation: str | None = None  # digest of who asked and the messages: a repeat joins this item (guard.review)

    def app_event(self) -> dict[str, Any]:
        """What the app is told when a held item ends: ``review.decided`` or ``review.expired``.

        ``answer`` is what the app may now deliver: the draft when approved, the corrected text
        when edited, None when rejected or expired.
        """
        answer = {"approved": self.draft, "edited": self.final_text}.get(self.status)
        kind = "review.expired" if self.status == "expired" else "review.decided"
        return {"type": kind, "review_id": self.id, "request_id": self.request_id, "status": self.status,
                "answer": answer, "reviewer": self.reviewer, "reason": self.reason,
                "decided_at": self.decided_at.isoformat() if self.decided_at else None}


class OutboxEvent(BaseModel):
    """One event for the app in the store's outbox, delivered to ``review.webhook_url`` by ``guard.webhook``."""

    id: int
    delivery: str  # the x-guard-delivery header: the same on every attempt, receivers deduplicate on it
    created_at: datetime
    type: str
    review_id: str
    payload: dict[str, Any]
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    next_attempt_at: datetime
    last_error: str | None = None
    done_at: datetime | None = None


class FeedbackRecord(BaseModel):
    """What the app's user thought of one answer, and what was really sent; one per request, history kept."""

    request_id: str
    created_at: datetime
    updated_at: datetime
    rating: int | None = None  # +1 / -1
    final_text: str | None = None
    edit_distance: float | None = None  # normalised 0..1, when final_text was given
    edited: bool | None = None  # changed beyond whitespace, case and punctuation
    resolved: bool | None = None  # the user's problem was solved, when the app says
    comment: str | None = None
    user: str | None = None
