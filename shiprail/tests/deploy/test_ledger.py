"""The ledger on SQLite and on a real PostgreSQL: migrations, records, locks; and the CLI's
exit codes for approvals and locks (no Docker needed: they are decided before any action)."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from shiprail.cli import app
from shiprail.deploy.ledger import VERSION_TABLE, Ledger
from shiprail.deploy.states import Action, AttemptState, ReleaseState
from shiprail.errors import LockHeld
from shiprail.settings import get_settings

from conftest import unavailable


def _exercise(ledger: Ledger) -> None:
    ledger.migrate()
    ledger.migrate()  # idempotent
    env = f"e{uuid.uuid4().hex[:8]}"
    release = ledger.create_release(
        environment=env, image="workorders:1", image_digest="sha256:abc", git_sha="abc123",
        created_by="alice", colour="blue",
    )  # fmt: skip
    attempt = ledger.begin_attempt(
        environment=env, release_id=release.id, action="deploy", actor="alice"
    )
    assert [a.status for a in ledger.open_attempts(env)] == ["intent"]
    ledger.finish_attempt(attempt, status="succeeded", timings={"start": 1.23456})
    ledger.set_release_status(release.id, "live")
    live = ledger.live_release(env)
    assert live is not None and live.live_at is not None and live.live_at.tzinfo is not None
    (recorded,) = ledger.attempts(env)
    assert recorded.timings == {"start": 1.235} and recorded.finished_at is not None
    approval = ledger.approve(
        environment="prod", release_id=release.id, approver="bob", reason="ok"
    )
    again = ledger.approve(environment="prod", release_id=release.id, approver="bob", reason="x")
    assert again.approver == approval.approver == "bob" and again.reason == "ok"
    second = ledger.approve(environment="prod", release_id=release.id, approver="eve", reason="y")
    assert second.approver == "eve", "requires_approvals: N records distinct approvers"
    with ledger.lock(env, "alice"):
        with pytest.raises(LockHeld), ledger.lock(env, "bob"):
            pass
        assert ledger.lock_info(env) is not None
    assert ledger.lock_info(env) is None
    _states_are_stored_as_their_text(ledger)


def _states_are_stored_as_their_text(ledger: Ledger) -> None:
    """Every state and action reaches the database as the same text as before the enums (the
    database driver must not store an enum's name, e.g. ``awaiting_approval``)."""
    env = f"s{uuid.uuid4().hex[:8]}"
    release = ledger.create_release(
        environment=env, image="workorders:1", image_digest="sha256:abc", git_sha="abc",
        created_by="alice", colour="green",
    )  # fmt: skip
    for state in ReleaseState:
        ledger.set_release_status(release.id, state)
        with ledger.engine.connect() as connection:
            query = sa.text("SELECT status FROM releases WHERE id = :id")
            stored = connection.execute(query, {"id": release.id}).scalar()
        assert type(stored) is str and stored == state.value
        reread = ledger.release(release.id)
        assert reread is not None and reread.status is state
    for action in Action:
        for state in AttemptState:
            attempt = ledger.begin_attempt(
                environment=env, release_id=release.id, action=action, actor="alice"
            )
            ledger.finish_attempt(attempt, status=state)
            with ledger.engine.connect() as connection:
                query = sa.text("SELECT action, status FROM attempts WHERE id = :id")
                row = connection.execute(query, {"id": attempt}).one()
            assert tuple(row) == (action.value, state.value)
    recorded = ledger.attempts(env, limit=1)[0]
    last = list(AttemptState)[-1]
    assert recorded.action is Action.rollback
    assert recorded.status is last
    assert json.loads(json.dumps(recorded.as_json()))["status"] == last.value
    approval = ledger.begin_attempt(
        environment=env, release_id=release.id, action=Action.promote, actor="alice"
    )
    ledger.finish_attempt(approval, status=AttemptState.awaiting_approval)
    waiting = ledger.attempts(env, limit=1)[0]
    assert json.loads(json.dumps(waiting.as_json()))["status"] == "awaiting-approval"


def test_ledger_on_sqlite(tmp_path: Path) -> None:
    ledger = Ledger(f"sqlite:///{tmp_path / 'nested' / 'state.db'}")
    _exercise(ledger)
    with ledger.engine.connect() as connection:
        version = connection.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()
    assert version == "0004_console"


@pytest.mark.postgres
def test_ledger_on_postgresql() -> None:
    url = os.environ.get("SHIPRAIL_TEST_POSTGRES_URL")
    if not url:
        unavailable("no PostgreSQL: SHIPRAIL_TEST_POSTGRES_URL unset (scripts/services.sh start)")
    ledger = Ledger(url.replace("postgresql://", "postgresql+psycopg://", 1))
    _exercise(ledger)
    assert ledger.engine.dialect.name == "postgresql"


def test_unreachable_database_is_a_tool_error_without_the_password() -> None:
    from shiprail.errors import ToolCrashed

    ledger = Ledger("postgresql+psycopg://u:hunter2@127.0.0.1:1/db?connect_timeout=2")
    with pytest.raises(ToolCrashed) as info:
        ledger.migrate()
    assert "hunter2" not in str(info.value)


def _cli_env(tmp_path: Path) -> dict[str, str]:
    return {
        "SHIPRAIL_DATABASE_URL": f"sqlite:///{tmp_path / 'state.db'}",
        "SHIPRAIL_STATE_DIR": str(tmp_path / "state"),
        "SHIPRAIL_ACTOR": "alice",
    }


def test_cli_promotion_without_approval_exits_4_then_approve_records(tmp_path: Path) -> None:
    ledger = Ledger(f"sqlite:///{tmp_path / 'state.db'}")
    ledger.migrate()
    release = ledger.create_release(
        environment="stage", image="workorders:1", image_digest="sha256:abc", git_sha="abc",
        created_by="alice", colour="blue",
    )  # fmt: skip
    ledger.set_release_status(release.id, "live")
    runner = CliRunner()
    result = runner.invoke(app, ["promote", "stage", "prod"], env=_cli_env(tmp_path))
    assert result.exit_code == 4, result.output
    assert f"shiprail approve prod {release.id}" in result.output
    result = runner.invoke(
        app, ["approve", "prod", release.id, "--reason", "mine"], env=_cli_env(tmp_path)
    )
    assert result.exit_code == 1 and "four eyes" in result.output, "alice promoted it"
    bob = {**_cli_env(tmp_path), "SHIPRAIL_ACTOR": "bob"}
    get_settings.cache_clear()
    result = runner.invoke(app, ["approve", "prod", release.id, "--reason", "CAB 17"], env=bob)
    assert result.exit_code == 0, result.output
    approval = ledger.approval("prod", release.id)
    assert approval is not None and approval.approver == "bob" and approval.reason == "CAB 17"
    result = runner.invoke(app, ["history", "prod", "--json"], env=_cli_env(tmp_path))
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    assert rows[0]["status"] == "awaiting-approval"


def test_cli_usage_errors_exit_2(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["rollback", "nowhere"], env=_cli_env(tmp_path))
    assert result.exit_code == 2 and "unknown environment 'nowhere'" in result.output
    result = runner.invoke(app, ["prune", "--older-than", "soon"], env=_cli_env(tmp_path))
    assert result.exit_code == 2 and "not a duration" in result.output
    result = runner.invoke(
        app, ["approve", "prod", "r-missing", "--reason", "x"], env=_cli_env(tmp_path)
    )
    assert result.exit_code == 2


def test_cli_status_json_lists_environments(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["status", "--json"], env=_cli_env(tmp_path))
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert {r["environment"] for r in rows} >= {"dev", "stage", "prod"}
    for row in rows:  # a host environment is reached through its edge, a cluster's by its API
        scheme = "kubernetes://" if row["environment"].endswith("-k8s") else "https://"
        assert row["url"].startswith(scheme), row


def test_config_errors_name_file_and_line(tmp_path: Path) -> None:
    from shiprail.config import load_config
    from shiprail.errors import ConfigError

    path = tmp_path / "shiprail.yaml"
    path.write_text(
        "environments:\n  dev:\n    replicas: 2\n    secrets:\n      db:\n        file: a\n"
        "        env: B\n  prod:\n    memroy: 1g\n"
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert "shiprail.yaml:5" in str(info.value) and "exactly one" in str(info.value)
    path.write_text("environments:\n  prod:\n    memroy: 1g\n")
    with pytest.raises(ConfigError, match=r"shiprail.yaml:3: .*unknown key"):
        load_config(path)
    path.write_text("environments:\n  Prod_1:\n    replicas: 1\n")
    with pytest.raises(ConfigError, match="must match"):
        load_config(path)
