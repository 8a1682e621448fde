"""Daemon store: forecasts and plans per refit, decision outcomes, cold starts by pod, forecast
error per horizon.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "forecasts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("workload", sa.String(253), nullable=False),
        sa.Column("made_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("model", sa.String(64), nullable=False),
        sa.Column("resolution_s", sa.Integer(), nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("frame_json", sa.Text(), nullable=False),
    )
    op.create_index("ix_forecasts_workload_made_at", "forecasts", ["workload", "made_at"])
    op.create_table(
        "plans",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("workload", sa.String(253), nullable=False),
        sa.Column("made_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("forecast_id", sa.Integer(), nullable=True),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("floors_json", sa.Text(), nullable=False),
        sa.Column("reserved", sa.Integer(), nullable=False),
        sa.Column("capacity_per_replica", sa.Float(), nullable=False),
        sa.Column("lead_time_s", sa.Integer(), nullable=False),
        sa.Column("lead_time_source", sa.String(32), nullable=False),
    )
    op.create_index("ix_plans_workload_made_at", "plans", ["workload", "made_at"])
    with op.batch_alter_table("decisions") as batch:
        batch.add_column(
            sa.Column("outcome", sa.String(32), nullable=False, server_default="advised")
        )
        batch.add_column(sa.Column("target_ref", sa.String(600), nullable=True))
        batch.add_column(sa.Column("ready_replicas", sa.Integer(), nullable=True))
    with op.batch_alter_table("cold_starts") as batch:
        batch.add_column(sa.Column("pod_uid", sa.String(64), nullable=True))
        batch.create_unique_constraint("uq_cold_starts_workload_pod_uid", ["workload", "pod_uid"])
    op.create_table(
        "forecast_errors",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("workload", sa.String(253), nullable=False),
        sa.Column("scored_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("horizon_s", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("mae", sa.Float(), nullable=False),
        sa.Column("p90_coverage", sa.Float(), nullable=False),
    )
    op.create_index(
        "ix_forecast_errors_workload_scored_at", "forecast_errors", ["workload", "scored_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_forecast_errors_workload_scored_at", table_name="forecast_errors")
    op.drop_table("forecast_errors")
    with op.batch_alter_table("cold_starts") as batch:
        batch.drop_constraint("uq_cold_starts_workload_pod_uid", type_="unique")
        batch.drop_column("pod_uid")
    with op.batch_alter_table("decisions") as batch:
        batch.drop_column("ready_replicas")
        batch.drop_column("target_ref")
        batch.drop_column("outcome")
    op.drop_index("ix_plans_workload_made_at", table_name="plans")
    op.drop_table("plans")
    op.drop_index("ix_forecasts_workload_made_at", table_name="forecasts")
    op.drop_table("forecasts")
