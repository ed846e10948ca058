"""The console: accounts, sessions, login lock-out, the audit trail; N approvers, rejections.

An approval becomes unique per approver (``requires_approvals: N`` needs N distinct ones), and
a promotion can be rejected. Console accounts keep argon2 hashes only; sessions keep the
SHA-256 of their token, so a copy of the ledger signs nobody in.

Revision ID: 0004_console
Revises: 0003_release_supply_chain
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_console"
down_revision = "0003_release_supply_chain"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("approvals") as batch:
        batch.drop_constraint("uq_approvals_env_release", type_="unique")
        batch.create_unique_constraint(
            "uq_approvals_env_release_approver", ["environment", "release_id", "approver"]
        )
    op.create_table(
        "rejections",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("environment", sa.String(64), nullable=False),
        sa.Column("release_id", sa.String(64), nullable=False),
        sa.Column("rejected_by", sa.String(128), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_rejections_release_id", "rejections", ["release_id"])
    op.create_table(
        "console_users",
        sa.Column("username", sa.String(64), primary_key=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "console_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, index=True),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "console_login_failures",
        sa.Column("key", sa.String(160), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "console_audit",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("account", sa.String(128), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("environment", sa.String(64), nullable=True),
        sa.Column("release_id", sa.String(64), nullable=True),
        sa.Column("detail", sa.Text, nullable=True),
    )
    # the console's timeline and release pages read a page of the newest rows per environment
    op.create_index("ix_releases_environment_created", "releases", ["environment", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_releases_environment_created", "releases")
    op.drop_table("console_audit")
    op.drop_table("console_login_failures")
    op.drop_table("console_sessions")
    op.drop_table("console_users")
    op.drop_index("ix_rejections_release_id", "rejections")
    op.drop_table("rejections")
    with op.batch_alter_table("approvals") as batch:
        batch.drop_constraint("uq_approvals_env_release_approver", type_="unique")
        batch.create_unique_constraint("uq_approvals_env_release", ["environment", "release_id"])
