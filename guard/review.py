"""Routing low-confidence answers to a human, and the durable queue they wait in.

A reviewer's decision is kept as a label (approved = faithful, rejected =
hallucinated) so it can feed calibration later.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any, Literal

from guard.config import ReviewConfig
from guard.metadata import Review, Tier
from guard.sqlite import Database

_SCHEMA = """
CREATE TABLE IF NOT EXISTS reviews (
    id TEXT PRIMARY KEY,
    request_id TEXT NOT NULL,
    created_at REAL NOT NULL,
    policy TEXT NOT NULL,
    tier TEXT NOT NULL,
    confidence REAL,
    question TEXT,
    draft TEXT NOT NULL,
    context TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    final_text TEXT,
    reviewer TEXT,
    decided_at REAL
);
CREATE INDEX IF NOT EXISTS reviews_status ON reviews(status, created_at);
"""

HELD_MESSAGE = "This answer is being checked by a person before it is shared. You will get it once it is reviewed."


def needs_review(tier: Tier, refused: bool, config: ReviewConfig) -> bool:
    return config.enabled and (refused or tier in config.tiers)


@dataclass
class ReviewItem:
    id: str
    request_id: str
    status: str
    policy: str
    tier: str
    confidence: float | None
    question: str | None
    draft: str
    context: dict[str, Any]
    final_text: str | None
    reviewer: str | None


class ReviewQueue:
    """Pending reviews in SQLite: they survive restarts and can be worked from another process."""

    def __init__(self, db: Database):
        self.db = db
        db.ensure_schema(_SCHEMA)

    def submit(self, *, request_id: str, policy: str, tier: str, confidence: float | None, question: str | None,
               draft: str, context: dict[str, Any]) -> Review:
        review_id = "rv_" + uuid.uuid4().hex[:20]
        self.db.execute(
            "INSERT INTO reviews (id, request_id, created_at, policy, tier, confidence, question, draft, context)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (review_id, request_id, time.time(), policy, tier, confidence, question, draft, json.dumps(context)),
        )
        return Review(required=True, policy=policy, id=review_id, status="pending")  # type: ignore[arg-type]

    def get(self, review_id: str) -> ReviewItem | None:
        rows = self.db.execute("SELECT * FROM reviews WHERE id = ?", (review_id,))
        return _item(rows[0]) if rows else None

    def pending(self, limit: int = 100) -> list[ReviewItem]:
        rows = self.db.execute("SELECT * FROM reviews WHERE status = 'pending' ORDER BY created_at LIMIT ?", (limit,))
        return [_item(r) for r in rows]

    def decide(self, review_id: str, decision: Literal["approved", "rejected"], *, final_text: str | None = None,
               reviewer: str | None = None) -> ReviewItem:
        """Record a reviewer's decision; an approved draft may be edited into ``final_text``."""
        if decision not in ("approved", "rejected"):
            raise ValueError(f"decision must be 'approved' or 'rejected', not {decision!r}")
        item = self.get(review_id)
        if item is None:
            raise KeyError(f"no review {review_id!r}")
        if item.status != "pending":
            raise ValueError(f"review {review_id} was already {item.status}")
        self.db.execute(
            "UPDATE reviews SET status = ?, final_text = ?, reviewer = ?, decided_at = ? WHERE id = ?",
            (decision, final_text, reviewer, time.time(), review_id),
        )
        return self.get(review_id)  # type: ignore[return-value]

    def labels(self) -> list[tuple[dict[str, Any], int]]:
        """Decided reviews as (signals context, 1 = faithful) pairs for recalibration."""
        rows = self.db.execute("SELECT context, status FROM reviews WHERE status IN ('approved', 'rejected')")
        return [(json.loads(r["context"]), int(r["status"] == "approved")) for r in rows]


def _item(row: Any) -> ReviewItem:
    return ReviewItem(
        id=row["id"], request_id=row["request_id"], status=row["status"], policy=row["policy"], tier=row["tier"],
        confidence=row["confidence"], question=row["question"], draft=row["draft"], context=json.loads(row["context"]),
        final_text=row["final_text"], reviewer=row["reviewer"],
    )
