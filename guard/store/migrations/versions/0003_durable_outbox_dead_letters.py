"""Durable delivery: the outbox of events about held answers, and the dead letters of refused records.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
EVENT_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _time(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "dead_letters",
        sa.Column("id", EVENT_ID, primary_key=True, autoincrement=True),
        _time("at", nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("error", sa.Text, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
    )
    op.create_index("ix_dead_letters_at", "dead_letters", ["at"])

    op.create_table(
        "outbox",
        sa.Column("id", EVENT_ID, primary_key=True, autoincrement=True),
        sa.Column("delivery", sa.String(64), nullable=False, unique=True),
        _time("created_at", nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("review_id", sa.String(64), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        _time("next_attempt_at", nullable=False),
        sa.Column("last_error", sa.Text),
        _time("done_at"),
    )
    op.create_index("ix_outbox_status_next_attempt_at", "outbox", ["status", "next_attempt_at"])
    op.create_index("ix_outbox_created_at", "outbox", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_outbox_created_at", table_name="outbox")
    op.drop_index("ix_outbox_status_next_attempt_at", table_name="outbox")
    op.drop_table("outbox")
    op.drop_index("ix_dead_letters_at", table_name="dead_letters")
    op.drop_table("dead_letters")
