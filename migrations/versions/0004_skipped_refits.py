"""Skipped refits: a refit the daemon did not make (a partial or missing history, the source
down), with its reason, so that the plan kept in force is explained in the store.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "skipped_refits",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("workload", sa.String(253), nullable=False),
        sa.Column("skipped_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(64), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
    )
    op.create_index(
        "ix_skipped_refits_workload_skipped_at", "skipped_refits", ["workload", "skipped_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_skipped_refits_workload_skipped_at", table_name="skipped_refits")
    op.drop_table("skipped_refits")
