"""The first schema: requests, reviews and their events, feedback and its history.

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Revisions spell their types out instead of importing guard.store.schema: a revision is history and
# must keep creating the schema it created, whatever the current code looks like.
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
EVENT_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _time(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _id(name: str, *args: object, **kw: object) -> sa.Column:
    return sa.Column(name, sa.String(64), *args, **kw)


def upgrade() -> None:
    op.create_table(
        "requests",
        _id("request_id", primary_key=True),
        _time("created_at", nullable=False),
        sa.Column("product", sa.String(200), nullable=False),
        sa.Column("model_requested", sa.String(200)),
        sa.Column("model_served", sa.String(200)),
        sa.Column("streamed", sa.Boolean, nullable=False),
        sa.Column("tier", sa.String(16)),
        sa.Column("confidence", sa.Float),
        sa.Column("signals", JSON, nullable=False),
        sa.Column("layers", JSON, nullable=False),
        sa.Column("citations", JSON, nullable=False),
        sa.Column("unsupported", JSON, nullable=False),
        sa.Column("latency_total_ms", sa.Float),
        sa.Column("latency_model_ms", sa.Float),
        sa.Column("latency_guard_ms", sa.Float),
        sa.Column("ttft_ms", sa.Float),
        sa.Column("prompt_tokens", sa.Integer, nullable=False),
        sa.Column("completion_tokens", sa.Integer, nullable=False),
        sa.Column("cost_usd", sa.Float),
        sa.Column("samples_cost_usd", sa.Float),
        sa.Column("verification_cost_usd", sa.Float, nullable=False),
        sa.Column("error_class", sa.String(200)),
        sa.Column("error_message", sa.Text),
        _id("review_id"),
        sa.Column("review_policy", sa.String(16)),
        sa.Column("question", sa.Text),
        sa.Column("answer", sa.Text),
        sa.Column("delivered", sa.Boolean, nullable=False),
    )
    op.create_index("ix_requests_created_at", "requests", ["created_at"])

    op.create_table(
        "reviews",
        _id("id", primary_key=True),
        _id("request_id", nullable=False),
        _time("created_at", nullable=False),
        _time("expires_at"),
        sa.Column("policy", sa.String(16), nullable=False),
        sa.Column("tier", sa.String(16), nullable=False),
        sa.Column("confidence", sa.Float),
        sa.Column("model", sa.String(200)),
        sa.Column("question", sa.Text),
        sa.Column("draft", sa.Text, nullable=False),
        sa.Column("context", JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("final_text", sa.Text),
        sa.Column("reviewer", sa.String(200)),
        sa.Column("reason", sa.Text),
        _time("decided_at"),
        sa.Column("edit_distance", sa.Float),
    )
    op.create_index("ix_reviews_request_id", "reviews", ["request_id"])
    op.create_index("ix_reviews_status_created_at", "reviews", ["status", "created_at"])

    op.create_table(
        "review_events",
        sa.Column("id", EVENT_ID, primary_key=True, autoincrement=True),
        _id("review_id", sa.ForeignKey("reviews.id"), nullable=False),
        _time("at", nullable=False),
        sa.Column("from_status", sa.String(16)),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("reviewer", sa.String(200)),
        sa.Column("reason", sa.Text),
    )
    op.create_index("ix_review_events_review_id", "review_events", ["review_id"])

    op.create_table(
        "feedback",
        _id("request_id", primary_key=True),
        _time("created_at", nullable=False),
        _time("updated_at", nullable=False),
        sa.Column("rating", sa.Integer),
        sa.Column("final_text", sa.Text),
        sa.Column("edit_distance", sa.Float),
        sa.Column("edited", sa.Boolean),
        sa.Column("resolved", sa.Boolean),
        sa.Column("comment", sa.Text),
        sa.Column("user", sa.String(200)),
    )
    op.create_table(
        "feedback_events",
        sa.Column("id", EVENT_ID, primary_key=True, autoincrement=True),
        _id("request_id", sa.ForeignKey("feedback.request_id"), nullable=False),
        _time("at", nullable=False),
        sa.Column("rating", sa.Integer),
        sa.Column("final_text", sa.Text),
        sa.Column("edit_distance", sa.Float),
        sa.Column("edited", sa.Boolean),
        sa.Column("resolved", sa.Boolean),
        sa.Column("comment", sa.Text),
        sa.Column("user", sa.String(200)),
    )
    op.create_index("ix_feedback_events_request_id", "feedback_events", ["request_id"])


def downgrade() -> None:
    for index, table in [("ix_feedback_events_request_id", "feedback_events"),
                         ("ix_review_events_review_id", "review_events")]:
        op.drop_index(index, table_name=table)
    op.drop_table("feedback_events")
    op.drop_table("feedback")
    op.drop_table("review_events")
    op.drop_index("ix_reviews_status_created_at", table_name="reviews")
    op.drop_index("ix_reviews_request_id", table_name="reviews")
    op.drop_table("reviews")
    op.drop_index("ix_requests_created_at", table_name="requests")
    op.drop_table("requests")
