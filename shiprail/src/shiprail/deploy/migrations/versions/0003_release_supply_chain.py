"""What the supply chain says of each release: SBOM digest, dirty tree, verification.

Revision ID: 0003_release_supply_chain
Revises: 0002_incidents_rollouts
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_release_supply_chain"
down_revision = "0002_incidents_rollouts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("releases") as batch:
        batch.add_column(sa.Column("sbom_digest", sa.String(128), nullable=True))
        batch.add_column(sa.Column("dirty", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("verification", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("releases") as batch:
        batch.drop_column("verification")
        batch.drop_column("dirty")
        batch.drop_column("sbom_digest")
