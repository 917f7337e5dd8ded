"""The store's tables as SQLAlchemy Core objects: what queries are written against.

The DDL itself is owned by the Alembic revisions in ``migrations/versions``; a
change here ships with a new revision (``test_schema_matches_migrations`` holds
the two together).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData()

# JSONB on PostgreSQL (indexable, compact), JSON text on SQLite.
Json = JSON().with_variant(JSONB(), "postgresql")
# Autoincrementing ids: SQLite only autoincrements INTEGER PRIMARY KEY.
EventId = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on both backends.

    SQLite has no time zones: values are stored as naive UTC, which also keeps
    its text comparison in time order.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the store keeps timezone-aware UTC times")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _id(name: str, *args: Any, **kw: Any) -> Column[str]:
    return Column(name, String(64), *args, **kw)


requests = Table(
    "requests", metadata,
    _id("request_id", primary_key=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("product", String(200), nullable=False),
    Column("model_requested", String(200)),
    Column("model_served", String(200)),
    Column("streamed", Boolean, nullable=False),
    Column("tier", String(16)),
    Column("confidence", Float),
    Column("signals", Json, nullable=False),
    Column("layers", Json, nullable=False),
    Column("citations", Json, nullable=False),
    Column("unsupported", Json, nullable=False),
    Column("latency_total_ms", Float),
    Column("latency_model_ms", Float),
    Column("latency_guard_ms", Float),
    Column("ttft_ms", Float),
    Column("prompt_tokens", Integer, nullable=False),
    Column("completion_tokens", Integer, nullable=False),
    Column("cost_usd", Float),
    Column("samples_cost_usd", Float),
    Column("verification_cost_usd", Float, nullable=False),
    Column("error_class", String(200)),
    Column("error_message", Text),
    _id("review_id"),
    Column("review_policy", String(16)),
    Column("question", Text),
    Column("answer", Text),
    Column("delivered", Boolean, nullable=False),
    Index("ix_requests_created_at", "created_at"),
)

reviews = Table(
    "reviews", metadata,
    _id("id", primary_key=True),
    _id("request_id", nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime()),
    Column("policy", String(16), nullable=False),
    Column("tier", String(16), nullable=False),
    Column("confidence", Float),
    Column("model", String(200)),
    Column("question", Text),
    Column("draft", Text, nullable=False),
    Column("context", Json, nullable=False),
    Column("status", String(16), nullable=False),
    Column("final_text", Text),
    Column("reviewer", String(200)),
    Column("reason", Text),
    Column("decided_at", UtcDateTime()),
    Column("edit_distance", Float),
    Column("conversation", String(64)),
    Index("ix_reviews_request_id", "request_id"),
    Index("ix_reviews_conversation_status", "conversation", "status"),
    Index("ix_reviews_status_created_at", "status", "created_at"),
)

review_events = Table(
    "review_events", metadata,
    Column("id", EventId, primary_key=True, autoincrement=True),
    _id("review_id", ForeignKey("reviews.id"), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("from_status", String(16)),  # None for the submission
    Column("to_status", String(16), nullable=False),
    Column("reviewer", String(200)),
    Column("reason", Text),
    Index("ix_review_events_review_id", "review_id"),
)


def _feedback_fields() -> list[Column[Any]]:
    """What one piece of feedback says: the current row and each history event carry the same fields."""
    return [
        Column("rating", Integer),
        Column("final_text", Text),
        Column("edit_distance", Float),
        Column("edited", Boolean),
        Column("resolved", Boolean),
        Column("comment", Text),
        Column("user", String(200)),
    ]


feedback = Table(
    "feedback", metadata,
    _id("request_id", primary_key=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    *_feedback_fields(),
)

feedback_events = Table(
    "feedback_events", metadata,
    Column("id", EventId, primary_key=True, autoincrement=True),
    _id("request_id", ForeignKey("feedback.request_id"), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    *_feedback_fields(),
    Index("ix_feedback_events_request_id", "request_id"),
)
