"""Experiments: their definitions in the store, and each request's experiment, variant and user.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("requests") as batch:
        batch.add_column(sa.Column("experiment", sa.String(64)))
        batch.add_column(sa.Column("variant", sa.String(64)))
        batch.add_column(sa.Column("user", sa.String(200)))
    op.create_index("ix_requests_experiment_created_at", "requests", ["experiment", "created_at"])
    op.create_table(
        "experiments",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("definition", JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("winner", sa.String(64)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
    )


def downgrade() -> None:
    op.drop_table("experiments")
    op.drop_index("ix_requests_experiment_created_at", table_name="requests")
    with op.batch_alter_table("requests") as batch:
        batch.drop_column("user")
        batch.drop_column("variant")
        batch.drop_column("experiment")
