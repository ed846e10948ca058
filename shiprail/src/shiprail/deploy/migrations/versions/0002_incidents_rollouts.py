"""Incidents (for DORA's change failures and time to restore) and progressive rollouts.

Revision ID: 0002_incidents_rollouts
Revises: 0001_ledger
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_incidents_rollouts"
down_revision = "0001_ledger"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("environment", sa.String(64), nullable=False),
        sa.Column("release_id", sa.String(64), nullable=True),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("opened_by", sa.String(128), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_by", sa.String(128), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_incidents_environment", "incidents", ["environment"])
    op.create_table(
        "rollouts",
        sa.Column("attempt_id", sa.Integer, primary_key=True),
        sa.Column("environment", sa.String(64), nullable=False),
        sa.Column("release_id", sa.String(64), nullable=False),
        sa.Column("strategy", sa.String(32), nullable=False),
        sa.Column("phase", sa.String(32), nullable=False),
        sa.Column("step", sa.Integer, nullable=False),
        sa.Column("weight", sa.Integer, nullable=False),
        sa.Column("detail", sa.Text, nullable=True),
        sa.Column("requested", sa.String(32), nullable=True),
        sa.Column("requested_by", sa.String(128), nullable=True),
        sa.Column("request_reason", sa.Text, nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_rollouts_environment", "rollouts", ["environment"])


def downgrade() -> None:
    op.drop_index("ix_rollouts_environment", "rollouts")
    op.drop_table("rollouts")
    op.drop_index("ix_incidents_environment", "incidents")
    op.drop_table("incidents")
