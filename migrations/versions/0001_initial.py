"""Initial store: policy state, decisions and observed cold starts per workload.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "policy_states",
        sa.Column("workload", sa.String(253), primary_key=True),
        sa.Column("state_json", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("workload", sa.String(253), nullable=False),
        sa.Column("capacity_type", sa.String(32), nullable=False),
        sa.Column("target_replicas", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(64), nullable=False),
        sa.Column("evidence_json", sa.Text(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_decisions_workload_decided_at", "decisions", ["workload", "decided_at"])
    op.create_table(
        "cold_starts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("workload", sa.String(253), nullable=False),
        sa.Column("ready_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lead_time_s", sa.Float(), nullable=False),
    )
    op.create_index("ix_cold_starts_workload_ready_at", "cold_starts", ["workload", "ready_at"])


def downgrade() -> None:
    op.drop_index("ix_cold_starts_workload_ready_at", table_name="cold_starts")
    op.drop_table("cold_starts")
    op.drop_index("ix_decisions_workload_decided_at", table_name="decisions")
    op.drop_table("decisions")
    op.drop_table("policy_states")
