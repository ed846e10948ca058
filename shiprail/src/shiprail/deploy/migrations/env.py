"""Alembic environment for the release ledger: runs on the connection the ledger passes in."""

from __future__ import annotations

from alembic import context

from shiprail.deploy.ledger import VERSION_TABLE
from shiprail.deploy.records import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
