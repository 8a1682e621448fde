"""Daemon store: the operating point chosen per workload (with its frontier and reason), the
level factor and pool caps of each plan, and the shadow score's hourly buckets.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "operating_points",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("workload", sa.String(253), nullable=False),
        sa.Column("chosen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("band_scale", sa.Float(), nullable=True),
        sa.Column("level_correction", sa.Boolean(), nullable=False),
        sa.Column("hold", sa.String(32), nullable=False),
        sa.Column("met", sa.Boolean(), nullable=False),
        sa.Column("slo_served_pct", sa.Float(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("windows_json", sa.Text(), nullable=False),
        sa.Column("frontier_json", sa.Text(), nullable=False),
    )
    op.create_index(
        "ix_operating_points_workload_chosen_at", "operating_points", ["workload", "chosen_at"]
    )
    with op.batch_alter_table("plans") as batch:
        batch.add_column(
            sa.Column("level_factor", sa.Float(), nullable=False, server_default="1.0")
        )
        batch.add_column(sa.Column("caps_json", sa.Text(), nullable=True))
    op.create_table(
        "shadow_hours",
        sa.Column("workload", sa.String(253), primary_key=True),
        sa.Column("hour_at", sa.DateTime(timezone=True), primary_key=True),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("plan_served", sa.Integer(), nullable=False),
        sa.Column("actual_served", sa.Integer(), nullable=False),
        sa.Column("plan_usd", sa.Float(), nullable=False),
        sa.Column("actual_usd", sa.Float(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("shadow_hours")
    with op.batch_alter_table("plans") as batch:
        batch.drop_column("caps_json")
        batch.drop_column("level_factor")
    op.drop_index("ix_operating_points_workload_chosen_at", table_name="operating_points")
    op.drop_table("operating_points")
