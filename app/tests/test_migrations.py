"""Alembic migrations upgrade and downgrade cleanly on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect

from workorders import migrate
from workorders.db import normalise_url


def tables(url: str) -> set[str]:
    engine = create_engine(normalise_url(url))
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade(database_url):
    assert migrate.current_revision(database_url) == "0001"
    assert "work_orders" in tables(database_url)
    migrate.downgrade(database_url, "base")
    assert migrate.current_revision(database_url) is None
    assert "work_orders" not in tables(database_url)
    migrate.upgrade(database_url)
    assert migrate.current_revision(database_url) == "0001"
    assert "work_orders" in tables(database_url)


def test_models_match_the_migrations(database_url):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from workorders.db import Base

    engine = create_engine(normalise_url(database_url))
    try:
        with engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    finally:
        engine.dispose()
    assert diff == []
