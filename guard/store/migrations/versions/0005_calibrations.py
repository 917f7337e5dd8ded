"""Support calibrations fitted on the product's labels (``guard calibrate``), and which one each answer used.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "calibrations",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("verifier", sa.String(64), nullable=False),
        sa.Column("body", JSON, nullable=False),
        sa.Column("activated_at", sa.DateTime(timezone=True)),  # the newest activated one is in force
    )
    op.create_index("ix_calibrations_activated_at", "calibrations", ["activated_at"])
    with op.batch_alter_table("requests") as batch:
        batch.add_column(sa.Column("calibration_id", sa.String(64)))


def downgrade() -> None:
    with op.batch_alter_table("requests") as batch:
        batch.drop_column("calibration_id")
    op.drop_index("ix_calibrations_activated_at", table_name="calibrations")
    op.drop_table("calibrations")
