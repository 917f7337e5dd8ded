"""Requests and review items name the API key they came in with (server.keys): attribution, limits, scoping.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("requests") as batch:
        batch.add_column(sa.Column("key_name", sa.String(64)))
    op.create_index("ix_requests_key_name_created_at", "requests", ["key_name", "created_at"])
    with op.batch_alter_table("reviews") as batch:
        batch.add_column(sa.Column("key_name", sa.String(64)))


def downgrade() -> None:
    op.drop_index("ix_requests_key_name_created_at", table_name="requests")
    with op.batch_alter_table("reviews") as batch:
        batch.drop_column("key_name")
    with op.batch_alter_table("requests") as batch:
        batch.drop_column("key_name")
