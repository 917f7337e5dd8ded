"""Every answer, recorded: latency, tokens, cost, verdict. The raw material of health reports."""

from __future__ import annotations

import json
import time
from typing import Any

from guard.metadata import GuardMetadata
from guard.sqlite import Database

_SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    request_id TEXT PRIMARY KEY,
    created_at REAL NOT NULL,
    model TEXT,
    tier TEXT NOT NULL,
    confidence REAL,
    latency_total_ms REAL,
    latency_model_ms REAL,
    latency_guard_ms REAL,
    prompt_tokens INTEGER,
    completion_tokens INTEGER,
    cost_usd REAL,
    verification_cost_usd REAL,
    review_id TEXT,
    streamed INTEGER NOT NULL DEFAULT 0,
    signals TEXT NOT NULL,
    layers TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS requests_created ON requests(created_at);
"""


class RecordStore:
    def __init__(self, db: Database):
        self.db = db
        db.ensure_schema(_SCHEMA)

    def record(self, meta: GuardMetadata, *, streamed: bool = False) -> None:
        u = meta.usage
        self.db.execute(
            "INSERT OR REPLACE INTO requests VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                meta.request_id, time.time(), meta.model, meta.tier, meta.confidence,
                u.latency_ms.total, u.latency_ms.model, u.latency_ms.guard,
                u.prompt_tokens, u.completion_tokens, u.cost_usd, u.verification_cost_usd,
                meta.review.id, int(streamed), json.dumps(meta.signals),
                json.dumps({k: v.model_dump(exclude_none=True) for k, v in meta.layers.items()}),
            ),
        )

    def get(self, request_id: str) -> dict[str, Any] | None:
        rows = self.db.execute("SELECT * FROM requests WHERE request_id = ?", (request_id,))
        return dict(rows[0]) if rows else None
