"""Reviews remember their conversation (a digest of who asked and the messages), so a repeat joins its item.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reviews") as batch:
        batch.add_column(sa.Column("conversation", sa.String(64)))
    op.create_index("ix_reviews_conversation_status", "reviews", ["conversation", "status"])


def downgrade() -> None:
    op.drop_index("ix_reviews_conversation_status", table_name="reviews")
    with op.batch_alter_table("reviews") as batch:
        batch.drop_column("conversation")
