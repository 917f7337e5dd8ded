"""Hand-made records for report tests: a fixed window and small factories."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from guard.store.models import FeedbackRecord, RequestRecord, ReviewItem

UNTIL = datetime(2026, 11, 30, tzinfo=timezone.utc)
SINCE = UNTIL - timedelta(days=7)


def request(i: int, tier: str | None = "high", *, at: datetime | None = None, **fields: Any) -> RequestRecord:
    """An answered request inside the window; ``unsupported=[...]`` marks a hallucination."""
    values: dict[str, Any] = {
        "request_id": f"gr_{i}", "created_at": at or SINCE + timedelta(hours=1 + i % 150), "product": "helpdesk",
        "model_requested": "openai/gpt-4o-mini", "model_served": "gpt-4o-mini", "tier": tier,
        "confidence": {"high": 0.9, "medium": 0.7, "low": 0.4}.get(tier or "", None),
        "layers": {"support": {"status": "ok", "ms": 3.0}}, "latency_total_ms": 800.0, "latency_model_ms": 750.0,
        "latency_guard_ms": 50.0, "prompt_tokens": 100, "completion_tokens": 40, "cost_usd": 0.001,
        "answer": "Refunds take 14 days.",
    }
    values.update(fields)
    return RequestRecord(**values)


def feedback(i: int, **fields: Any) -> FeedbackRecord:
    return FeedbackRecord(request_id=f"gr_{i}", created_at=SINCE, updated_at=SINCE, **fields)


def review(i: int, status: str, tier: str = "low", **fields: Any) -> ReviewItem:
    values: dict[str, Any] = {"id": f"rv_{i}", "request_id": f"gr_{i}", "created_at": SINCE, "policy": "flag",
                              "tier": tier, "draft": "Refunds take 14 days.", "status": status}
    return ReviewItem(**{**values, **fields})
