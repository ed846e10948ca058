"""Fixtures: every API test runs on SQLite and on a real PostgreSQL.

PostgreSQL comes from ``SHIPRAIL_TEST_POSTGRES_URL`` (``make test`` starts a private cluster
and sets it). When it is missing the PostgreSQL cases skip on a laptop, but fail when
``SHIPRAIL_REQUIRE_INTEGRATION=1`` (CI), so an integration test never silently disappears.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from workorders import migrate
from workorders.db import normalise_url
from workorders.main import create_app
from workorders.settings import Settings

TOKEN = "test-writer-token-9f1c"
TOKEN_HASH = hashlib.sha256(TOKEN.encode()).hexdigest()
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def require_integration(what: str) -> None:
    message = f"{what} is not available"
    if os.environ.get("SHIPRAIL_REQUIRE_INTEGRATION") == "1":
        pytest.fail(f"{message}, and SHIPRAIL_REQUIRE_INTEGRATION=1 forbids skipping")
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    url = os.environ.get("SHIPRAIL_TEST_POSTGRES_URL")
    if not url:
        require_integration("PostgreSQL (SHIPRAIL_TEST_POSTGRES_URL)")
    return url  # type: ignore[return-value]


def _fresh_postgres_database(server_url: str) -> str:
    """A new, empty database on the test server; dropped by the caller."""
    name = f"wo_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalise_url(server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return server_url.rsplit("/", 1)[0] + f"/{name}"


def _drop_postgres_database(server_url: str, database_url: str) -> None:
    name = database_url.rsplit("/", 1)[1]
    admin = create_engine(normalise_url(server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """An empty, migrated database of each kind."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'workorders.db'}"
        migrate.upgrade(url)
        yield url
        return
    server = request.getfixturevalue("postgres_server_url")
    url = _fresh_postgres_database(server)
    try:
        migrate.upgrade(url)
        yield url
    finally:
        _drop_postgres_database(server, url)


def make_settings(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "env": "dev",
        "database_url": database_url,
        "api_token_hashes": [TOKEN_HASH],
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def app(database_url: str):
    return create_app(make_settings(database_url))


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def new_order(client: TestClient, **fields: object) -> dict:
    body = {
        "property_ref": "BLD-12/4B",
        "category": "plumbing",
        "priority": "high",
        "title": "Leaking tap in kitchen",
        "description": "Drips every few seconds.",
    }
    body.update(fields)
    response = client.post("/api/v1/workorders", json=body, headers=AUTH)
    assert response.status_code == 201, response.text
    return response.json()
