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
    false,
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


class StoredText(TypeDecorator[str]):
    """Text a database can hold, whatever the request carried.

    PostgreSQL refuses NUL in text (and in JSON, see ``engine._json``): it becomes U+FFFD, the
    replacement character, on both backends. A value longer than a sized column is cut to fit
    (PostgreSQL refuses it, SQLite would keep it), unless ``clip`` is off, as for ids, where a
    cut value could name another row. Lookups pass through here too, so they match what was stored.
    """

    impl = String
    cache_ok = True

    def __init__(self, length: int | None = None, *, clip: bool = True):
        super().__init__(length)
        if length is None:
            self.impl = Text()  # the DDL the migrations wrote
        self.clip = clip

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if "\x00" in value:
            value = value.replace("\x00", "\ufffd")
        length = self.impl.length
        if self.clip and length is not None and len(value) > length:
            value = value[:length]
        return value


def _id(name: str, *args: Any, **kw: Any) -> Column[str]:
    return Column(name, StoredText(64, clip=False), *args, **kw)


requests = Table(
    "requests", metadata,
    _id("request_id", primary_key=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("product", StoredText(200), nullable=False),
    Column("model_requested", StoredText(200)),
    Column("model_served", StoredText(200)),
    Column("streamed", Boolean, nullable=False),
    Column("tier", StoredText(16)),
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
    Column("error_class", StoredText(200)),
    Column("error_message", StoredText()),
    _id("review_id"),
    Column("review_policy", StoredText(16)),
    Column("question", StoredText()),
    Column("answer", StoredText()),
    Column("delivered", Boolean, nullable=False),
    Column("key_name", String(64)),
    _id("calibration_id"),
    Column("experiment", String(64)),
    Column("variant", String(64)),
    Column("user", String(200)),
    Index("ix_requests_created_at", "created_at"),
    Index("ix_requests_key_name_created_at", "key_name", "created_at"),
    Index("ix_requests_experiment_created_at", "experiment", "created_at"),
)

reviews = Table(
    "reviews", metadata,
    _id("id", primary_key=True),
    _id("request_id", nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime()),
    Column("policy", StoredText(16), nullable=False),
    Column("tier", StoredText(16), nullable=False),
    Column("confidence", Float),
    Column("model", StoredText(200)),
    Column("question", StoredText()),
    Column("draft", StoredText(), nullable=False),
    Column("context", Json, nullable=False),
    Column("status", StoredText(16), nullable=False),
    Column("final_text", StoredText()),
    Column("reviewer", StoredText(200)),
    Column("reason", StoredText()),
    Column("decided_at", UtcDateTime()),
    Column("edit_distance", Float),
    Column("audit", Boolean, nullable=False, server_default=false()),
    Column("key_name", String(64)),
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
    Column("from_status", StoredText(16)),  # None for the submission
    Column("to_status", StoredText(16), nullable=False),
    Column("reviewer", StoredText(200)),
    Column("reason", StoredText()),
    Index("ix_review_events_review_id", "review_id"),
)

# Under ``pii_handling: redact`` a held answer is stored masked like everything else, yet its user must get it as
# written: that text (the draft, or a reviewer's edit) waits here, apart, until it is delivered; it goes too when
# the item is rejected, expires or is purged. Only held answers whose masked copy differs have a row.
deliverables = Table(
    "deliverables", metadata,
    _id("review_id", ForeignKey("reviews.id"), primary_key=True),
    Column("answer", StoredText(), nullable=False),
)


def _feedback_fields() -> list[Column[Any]]:
    """What one piece of feedback says: the current row and each history event carry the same fields."""
    return [
        Column("rating", Integer),
        Column("final_text", StoredText()),
        Column("edit_distance", Float),
        Column("edited", Boolean),
        Column("resolved", Boolean),
        Column("comment", StoredText()),
        Column("user", StoredText(200)),
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

dead_letters = Table(
    "dead_letters", metadata,
    Column("id", EventId, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime(), nullable=False),
    Column("kind", StoredText(32), nullable=False),  # what the row was: "request"
    _id("key", nullable=False),  # its id, e.g. the request id
    Column("error", StoredText(), nullable=False),
    Column("payload", StoredText(), nullable=False),  # JSON as text: the database refused it as it was
    Index("ix_dead_letters_at", "at"),
)

outbox = Table(
    "outbox", metadata,
    Column("id", EventId, primary_key=True, autoincrement=True),
    _id("delivery", nullable=False, unique=True),  # x-guard-delivery: the same on every attempt
    Column("created_at", UtcDateTime(), nullable=False),
    Column("type", StoredText(32), nullable=False),
    _id("review_id", nullable=False),
    Column("payload", Json, nullable=False),
    Column("status", StoredText(16), nullable=False),  # pending, delivered, failed
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UtcDateTime(), nullable=False),  # also the lease of the worker sending it
    Column("last_error", StoredText()),
    Column("done_at", UtcDateTime()),
    Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),
    Index("ix_outbox_created_at", "created_at"),
)

calibrations = Table(
    "calibrations", metadata,
    _id("id", primary_key=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("verifier", String(64), nullable=False),
    Column("body", Json, nullable=False),
    Column("activated_at", UtcDateTime()),  # the newest activated one is in force
    Index("ix_calibrations_activated_at", "activated_at"),
)

experiments = Table(
    "experiments", metadata,
    Column("name", String(64), primary_key=True),
    Column("definition", Json, nullable=False),  # the ExperimentConfig, with the text of the prompts it names
    Column("status", String(16), nullable=False),  # running, paused, ended
    Column("winner", String(64)),  # the variant everyone gets once ended
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("started_at", UtcDateTime()),
    Column("ended_at", UtcDateTime()),
)

responses = Table(
    "responses", metadata,
    _id("id", primary_key=True),  # resp_...: the Responses API id a next turn names as previous_response_id
    Column("created_at", UtcDateTime(), nullable=False),
    Column("messages", Json, nullable=False),  # the conversation so far as chat messages, this turn's output last
    Column("key_name", String(64)),  # the key that created it: only that key continues it
    Index("ix_responses_created_at", "created_at"),
)
