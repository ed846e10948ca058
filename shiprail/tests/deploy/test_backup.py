"""Ledger backup and restore as they are used after a loss: deploy and promote with approval,
back up, destroy the ledger, restore, and find ``status`` and ``history`` (and every row)
as they were, on SQLite and on a real PostgreSQL; the refusals (damaged file, newer schema,
another database kind, a ledger with records); the CLI; and every command
docs/disaster-recovery.md shows, run as written."""

from __future__ import annotations

import io
import json
import os
import shlex
import subprocess
import tarfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from shiprail.cli import app
from shiprail.deploy import approvals
from shiprail.deploy import backup as backups
from shiprail.deploy.ledger import MIGRATIONS, VERSION_TABLE, Ledger
from shiprail.deploy.records import metadata
from shiprail.errors import ApprovalPending, Refused, ToolCrashed, ToolMissing, UsageError
from shiprail.settings import get_settings

from .conftest import World
from conftest import require_tools, unavailable

DOC = Path(__file__).resolve().parents[3] / "docs" / "disaster-recovery.md"
HEAD = "0004_console"
SECRET = "hunter2-not-for-output"


# -- helpers --------------------------------------------------------------------------------
def ship(world: World) -> None:
    """A history worth restoring: dev twice, and a release promoted with approvals to stage
    and prod (each promotion first waits for its approval)."""
    dev = world.engine.deploy("dev", "workorders:v1")
    with pytest.raises(ApprovalPending):
        world.engine.promote("dev", "stage")
    approvals.approve(world.ledger, "stage", dev.id, "bob", "tested in dev")
    stage = world.engine.promote("dev", "stage")
    with pytest.raises(ApprovalPending):
        world.engine.promote("stage", "prod")
    approvals.approve(world.ledger, "prod", stage.id, "bob", "change ticket 42")
    world.engine.promote("stage", "prod")
    world.engine.deploy("dev", "workorders:v2")


def snapshot(world: World) -> dict[str, Any]:
    """``status`` and ``history`` as ``--json`` prints them, and every row of every table."""
    history = {
        env: [e.as_json() for e in world.engine.history(env)]
        for env in world.engine.config.environments
    }
    with world.ledger.engine.connect() as connection:
        rows = {
            table.name: [
                dict(row._mapping)
                for row in connection.execute(table.select().order_by(*table.primary_key))
            ]
            for table in metadata.sorted_tables
        }
    data = {
        "status": [s.as_json() for s in world.engine.status()],
        "history": history,
        "rows": rows,
    }
    return json.loads(json.dumps(data, default=str))


def upgrade(ledger: Ledger, revision: str) -> None:
    """Migrate ``ledger`` to ``revision`` only: a ledger as an older shiprail left it."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with ledger.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def rewrite(
    archive: Path, to: Path, *, manifest: dict[str, Any] | None = None, payload: bytes | None = None
) -> None:
    """A copy of ``archive`` with its manifest fields and/or payload replaced."""
    with tarfile.open(archive) as tar:
        old = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
        body = tar.extractfile(old["payload"]).read()  # type: ignore[union-attr]
    new = {**old, **(manifest or {})}
    with tarfile.open(to, "w") as tar:
        for name, data in (
            ("manifest.json", json.dumps(new).encode()),
            (old["payload"], payload or body),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def newer_schema_backup(archive: Path, to: Path, work: Path) -> str:
    """A backup as a newer shiprail would make it: its payload says so, and the manifest
    carries that revision and the payload's new checksum."""
    import hashlib
    import sqlite3

    revision = "0099_from_a_newer_shiprail"
    with tarfile.open(archive) as tar:
        (work / "payload.db").write_bytes(tar.extractfile("ledger.sqlite").read())  # type: ignore[union-attr]
    with sqlite3.connect(work / "payload.db") as db:
        db.execute(f"UPDATE {VERSION_TABLE} SET version_num = ?", (revision,))
    db.close()
    body = (work / "payload.db").read_bytes()
    fields = {
        "schema_revision": revision,
        "payload_sha256": hashlib.sha256(body).hexdigest(),
        "payload_bytes": len(body),
    }
    rewrite(archive, to, manifest=fields, payload=body)
    return revision


def cli(*args: str, env: dict[str, str] | None = None) -> Any:
    """``shiprail ARGS`` with ``env`` set; settings are read afresh for each command."""
    get_settings.cache_clear()
    result = CliRunner().invoke(app, list(args), env=env)
    get_settings.cache_clear()
    return result


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


# -- SQLite ---------------------------------------------------------------------------------
def test_sqlite_round_trip_after_losing_the_ledger(world: World, tmp_path: Path) -> None:
    ship(world)
    before = snapshot(world)
    url = world.ledger.url
    done = backups.backup(url, tmp_path / "backups" / "ledger.tar")
    assert done.path.stat().st_mode & 0o777 == 0o600
    manifest = done.as_json()
    assert manifest["database"] == "sqlite" and manifest["schema_revision"] == HEAD
    assert manifest["format"] == 1 and manifest["shiprail_version"] and manifest["created_at"]
    with tarfile.open(done.path) as tar:
        assert sorted(tar.getnames()) == ["ledger.sqlite", "manifest.json"]

    world.ledger.engine.dispose()
    for name in ("state.db", "state.db-wal", "state.db-shm"):
        (tmp_path / name).unlink(missing_ok=True)
    restored = backups.restore(url, done.path)

    assert (restored.restored_revision, restored.schema_revision) == (HEAD, HEAD)
    assert restored.replaced is False and restored.previous is None
    assert snapshot(world) == before
    assert world.engine.deploy("dev", "workorders:v3").status == "live", "the ledger works on"


def test_an_older_backup_is_migrated_to_head(tmp_path: Path) -> None:
    old = Ledger(sqlite_url(tmp_path / "old.db"))
    upgrade(old, "0002_incidents_rollouts")
    old.engine.dispose()
    done = backups.backup(old.url, tmp_path / "old.tar")
    assert done.manifest.schema_revision == "0002_incidents_rollouts"
    restored = backups.restore(sqlite_url(tmp_path / "new" / "state.db"), done.path)
    assert (restored.restored_revision, restored.schema_revision) == (
        "0002_incidents_rollouts",
        HEAD,
    )


def test_a_damaged_backup_is_refused_and_nothing_changes(world: World, tmp_path: Path) -> None:
    ship(world)
    done = backups.backup(world.ledger.url, tmp_path / "ledger.tar")
    damaged = tmp_path / "damaged.tar"
    with tarfile.open(done.path) as tar:
        body = bytearray(tar.extractfile("ledger.sqlite").read())  # type: ignore[union-attr]
    body[len(body) // 2] ^= 0xFF
    rewrite(done.path, damaged, payload=bytes(body))
    target = tmp_path / "empty" / "state.db"
    with pytest.raises(Refused, match=r"is damaged: ledger\.sqlite has sha256") as info:
        backups.restore(sqlite_url(target), damaged)
    assert info.value.exit_code == 1 and not target.exists()
    not_a_backup = tmp_path / "notes.tar"
    not_a_backup.write_text("not a tar")
    with pytest.raises(UsageError, match="is not a ledger backup"):
        backups.restore(sqlite_url(target), not_a_backup)


def test_a_backup_from_a_newer_schema_is_refused_with_what_to_do(
    world: World, tmp_path: Path
) -> None:
    ship(world)
    done = backups.backup(world.ledger.url, tmp_path / "ledger.tar")
    newer = tmp_path / "newer.tar"
    revision = newer_schema_backup(done.path, newer, tmp_path)
    target = tmp_path / "restored" / "state.db"
    with pytest.raises(UsageError) as info:
        backups.restore(sqlite_url(target), newer)
    message = str(info.value)
    assert info.value.exit_code == 2 and not target.exists()
    assert str(newer) in message and revision in message and HEAD in message
    assert "restore it with shiprail" in message and "or newer" in message


def test_a_ledger_with_records_is_replaced_only_with_force(world: World, tmp_path: Path) -> None:
    world.engine.deploy("dev", "workorders:v1")
    done = backups.backup(world.ledger.url, tmp_path / "one-release.tar")
    ship(world)
    after = snapshot(world)
    with pytest.raises(Refused, match=r"holds \d+ record\(s\)") as info:
        backups.restore(world.ledger.url, done.path)
    assert "--force" in str(info.value) and snapshot(world) == after

    world.ledger.engine.dispose()
    restored = backups.restore(world.ledger.url, done.path, force=True)
    assert restored.replaced and restored.previous == tmp_path / "state.db.before-restore"
    assert len(world.engine.history("dev")) == 1 and world.engine.history("prod") == []
    kept = Ledger(sqlite_url(restored.previous))
    assert len(kept.attempts("prod")) == len(after["history"]["prod"]), "the old ledger is kept"


def test_a_sqlite_ledger_in_use_is_not_replaced(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process reading the ledger (a deploy, a metrics scrape) keeps the old file open: the
    restore is refused rather than pulling the file from under it."""
    import sqlite3

    world.engine.deploy("dev", "workorders:v1")
    done = backups.backup(world.ledger.url, tmp_path / "ledger.tar")
    monkeypatch.setattr(backups, "SQLITE_BUSY_SECONDS", 0.2)
    reader = sqlite3.connect(tmp_path / "state.db", isolation_level=None)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM releases").fetchone()  # holds its snapshot
        world.engine.deploy("dev", "workorders:v2")  # newer pages wait in the WAL
        with pytest.raises(Refused, match="in use by another process"):
            backups.restore(world.ledger.url, done.path, force=True)
    finally:
        reader.close()
    assert len(world.engine.history("dev")) == 2, "the ledger in use was left as it was"


# -- the CLI --------------------------------------------------------------------------------
def test_cli_round_trip_with_state_dir_and_url(world: World, tmp_path: Path) -> None:
    ship(world)
    env = {"SHIPRAIL_STATE_DIR": str(tmp_path / "state"), "SHIPRAIL_DATABASE_URL": world.ledger.url}
    history = cli("history", "prod", "--json", env=env)
    assert history.exit_code == 0, history.output

    made = cli("ledger", "backup", "--json", env=env)
    assert made.exit_code == 0, made.output
    path = Path(json.loads(made.stdout)["path"])
    assert path.parent == tmp_path / "state" / "backups" and path.name.startswith("ledger-")
    assert path.stat().st_mode & 0o777 == 0o600 and path.parent.stat().st_mode & 0o777 == 0o700
    second = cli("ledger", "backup", env=env)
    assert second.exit_code == 0 and Path(second.stdout.strip()) != path, "never overwritten"

    refused = cli("ledger", "restore", str(path), env=env)
    assert refused.exit_code == 1 and "--force" in refused.output
    world.ledger.engine.dispose()
    (tmp_path / "state.db").unlink()
    restored = cli("ledger", "restore", str(path), "--json", env=env)
    assert restored.exit_code == 0, restored.output
    assert json.loads(restored.stdout)["schema_revision"] == HEAD
    again = cli("history", "prod", "--json", env=env)
    assert json.loads(again.stdout) == json.loads(history.stdout)


def test_cli_exit_codes_and_no_password_in_any_message(world: World, tmp_path: Path) -> None:
    ship(world)
    env = {"SHIPRAIL_STATE_DIR": str(tmp_path / "state"), "SHIPRAIL_DATABASE_URL": world.ledger.url}
    path = Path(cli("ledger", "backup", env=env).stdout.strip())
    newer = tmp_path / "newer.tar"
    newer_schema_backup(path, newer, tmp_path)
    fresh = {**env, "SHIPRAIL_DATABASE_URL": sqlite_url(tmp_path / "fresh" / "state.db")}
    result = cli("ledger", "restore", str(newer), env=fresh)
    assert result.exit_code == 2 and "newer than this shiprail" in result.output
    assert cli("ledger", "restore", str(tmp_path / "missing.tar"), env=fresh).exit_code == 2

    unreachable = f"postgresql+psycopg://shiprail:{SECRET}@127.0.0.1:1/ledger?connect_timeout=2"
    other_kind = cli(
        "ledger", "restore", str(path), env={**env, "SHIPRAIL_DATABASE_URL": unreachable}
    )
    assert other_kind.exit_code == 2 and "is a sqlite backup" in other_kind.output
    down = cli(
        "ledger",
        "backup",
        "--output",
        str(tmp_path / "x.tar"),
        env={**env, "SHIPRAIL_DATABASE_URL": unreachable},
    )
    assert down.exit_code == 3 and "shiprail:***@127.0.0.1:1/ledger" in down.output
    for output in (other_kind.output, down.output):
        assert SECRET not in output


def test_postgresql_tools_get_the_password_in_their_environment_only(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seen: list[tuple[list[str], dict[str, str]]] = []

    def fake_run(args: list[str], **kwargs: Any) -> Any:
        seen.append((list(args), kwargs["env"]))
        return subprocess.CompletedProcess(
            args, 1, "", f"FATAL: no such user (postgresql://u:{SECRET}@h/x)"
        )

    monkeypatch.setattr(backups._subprocess, "run", fake_run)
    monkeypatch.setattr(backups._subprocess, "which", lambda name: f"/opt/pg/{name}")
    target = backups.database(
        f"postgresql+psycopg://u:{SECRET}@db.example:5433/ledger?sslmode=require"
    )
    with pytest.raises(ToolCrashed) as info:
        backups._pg_run("pg_dump", ["--format=custom"], target)
    ((args, env),) = seen
    assert SECRET not in " ".join(args) and SECRET not in str(info.value)
    assert env == {
        "PGHOST": "db.example",
        "PGPORT": "5433",
        "PGUSER": "u",
        "PGPASSWORD": SECRET,
        "PGDATABASE": "ledger",
        "PGSSLMODE": "require",
    }


def test_a_missing_postgresql_tool_is_named_with_its_install_hint(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(backups._subprocess, "which", lambda _name: None)
    monkeypatch.setattr(backups, "PG_BIN_GLOB", str(tmp_path / "*" / "bin"))
    with pytest.raises(ToolMissing) as info:
        backups._pg_tool("pg_restore")
    assert info.value.exit_code == 3 and "pg_restore" in str(info.value)
    assert "postgresql-client" in str(info.value)
    for version in ("9", "15", "13"):
        tool = tmp_path / version / "bin" / "pg_restore"
        tool.parent.mkdir(parents=True)
        tool.write_text("")
    assert backups._pg_tool("pg_restore") == str(tmp_path / "15" / "bin" / "pg_restore")


# -- PostgreSQL -----------------------------------------------------------------------------
@pytest.fixture
def private_database() -> Iterator[tuple[str, Callable[[], None]]]:
    """A database of its own on the test server, and a way to drop and recreate it empty.

    test_ledger.py keeps its rows apart in the shared database by unique environment names;
    a restore replaces whole tables (``pg_restore --clean``), so it gets a database of its
    own, created and dropped here, and never touches what other tests or runs keep."""
    base = os.environ.get("SHIPRAIL_TEST_POSTGRES_URL")
    if not base:
        unavailable("no PostgreSQL: SHIPRAIL_TEST_POSTGRES_URL unset (scripts/services.sh start)")
    admin_url = sa.engine.make_url(base.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"shiprail_backup_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")

    def recreate() -> None:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))

    recreate()
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False), recreate
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.postgres
def test_postgresql_round_trip_after_losing_the_database(
    world: World, tmp_path: Path, private_database: tuple[str, Callable[[], None]]
) -> None:
    require_tools("pg_dump", "pg_restore")
    url, recreate = private_database
    ledger = Ledger(url)
    ledger.migrate()
    world.ledger = world.engine.ledger = ledger
    ship(world)
    before = snapshot(world)
    done = backups.backup(url, tmp_path / "pg.tar")
    assert done.manifest.database == "postgresql" and done.manifest.schema_revision == HEAD
    assert done.manifest.payload == "ledger.pgdump"

    ledger.engine.dispose()
    recreate()
    restored = backups.restore(url, done.path)
    assert (restored.restored_revision, restored.schema_revision, restored.replaced) == (
        HEAD,
        HEAD,
        False,
    )
    assert snapshot(world) == before
    with pytest.raises(Refused, match="record"):
        backups.restore(url, done.path)
    ledger.engine.dispose()
    assert backups.restore(url, done.path, force=True).replaced
    assert snapshot(world) == before
    assert world.engine.deploy("dev", "workorders:v3").status == "live", "sequences restored too"


@pytest.mark.postgres
def test_postgresql_older_backup_over_a_newer_ledger(
    tmp_path: Path, private_database: tuple[str, Callable[[], None]]
) -> None:
    """A backup older than the ledger's schema replaces it whole: tables the backup predates
    are dropped and made again by the migrations."""
    require_tools("pg_dump", "pg_restore")
    url, _recreate = private_database
    ledger = Ledger(url)
    upgrade(ledger, "0001_ledger")
    with ledger.engine.begin() as connection:
        connection.execute(sa.text(
            "INSERT INTO releases (id, environment, image, image_digest, git_sha, created_by,"
            " created_at, colour, status) VALUES ('r-old', 'prod', 'workorders:v1', 'sha256:a',"
            " 'abc', 'alice', now(), 'blue', 'live')"
        ))  # fmt: skip
    done = backups.backup(url, tmp_path / "old.tar")
    assert done.manifest.schema_revision == "0001_ledger"
    ledger.migrate()
    with ledger.engine.begin() as connection:
        connection.execute(sa.text(
            "INSERT INTO incidents (environment, summary, opened_by, opened_at)"
            " VALUES ('prod', 'exports fail', 'bob', now())"
        ))  # fmt: skip
    ledger.engine.dispose()
    restored = backups.restore(url, done.path, force=True)
    assert (restored.restored_revision, restored.schema_revision) == ("0001_ledger", HEAD)
    release = ledger.release("r-old")
    assert release is not None and release.dirty is False
    with ledger.engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM incidents")).scalar() == 0
    ledger.engine.dispose()


@pytest.mark.postgres
def test_postgresql_cli_never_prints_the_password(
    world: World, tmp_path: Path, private_database: tuple[str, Callable[[], None]]
) -> None:
    require_tools("pg_dump", "pg_restore")
    url, recreate = private_database
    password = sa.engine.make_url(url).password
    assert password
    ledger = Ledger(url)
    ledger.migrate()
    world.ledger = world.engine.ledger = ledger
    ship(world)
    ledger.engine.dispose()
    env = {"SHIPRAIL_STATE_DIR": str(tmp_path / "state"), "SHIPRAIL_DATABASE_URL": url}
    made = cli("ledger", "backup", "--json", env=env)
    assert made.exit_code == 0, made.output
    recreate()
    restored = cli("ledger", "restore", json.loads(made.stdout)["path"], env=env)
    assert restored.exit_code == 0, restored.output
    refused = cli("ledger", "restore", json.loads(made.stdout)["path"], env=env)
    assert refused.exit_code == 1
    wrong = sa.engine.make_url(url).set(password=SECRET).render_as_string(hide_password=False)
    denied = cli("ledger", "backup", env={**env, "SHIPRAIL_DATABASE_URL": wrong})
    assert denied.exit_code == 3
    for result in (made, restored, refused, denied):
        assert password not in result.output and SECRET not in result.output
        assert "***@" in result.output or result is made


# -- the doc --------------------------------------------------------------------------------
def doc_blocks() -> list[tuple[str, str, list[str]]]:
    """Each fenced block of the doc: its heading, the line before it, and its lines."""
    blocks, heading, before, lines, fence = [], "", "", [], None
    for line in DOC.read_text().splitlines():
        if fence is not None:
            if line.startswith("```"):
                blocks.append((heading, fence, lines))
                fence, lines = None, []
            else:
                lines.append(line)
        elif line.startswith("```"):
            fence = before + "\n" + line
        elif line.startswith("#"):
            heading = line.lstrip("# ")
        if fence is None and line.strip() and not line.startswith("```"):
            before = line
    return blocks


def doc_commands(heading: str) -> list[list[str]]:
    """The ``$`` lines of the console blocks under ``heading``, one list per block."""
    return [
        [line.removeprefix("$ ") for line in lines if line.startswith("$ ")]
        for title, fence, lines in doc_blocks()
        if title == heading and fence.endswith("```console")
    ]


def run_doc(line: str, cwd: Path, env: dict[str, str]) -> str:
    """A doc line as a person runs it: ``shiprail`` (after ``NAME=value`` words) in-process,
    anything else in a shell."""
    words = shlex.split(line)
    extra = {}
    while "=" in words[0] and words[0].split("=")[0].isupper():
        name, _, value = words.pop(0).partition("=")
        extra[name] = value
    if words[0] == "shiprail":
        result = cli(*words[1:], env={**env, **extra})
        assert result.exit_code == 0, (line, result.output)
        return str(result.stdout)
    done = subprocess.run(
        ["bash", "-c", line], cwd=cwd, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, (line, done.stderr)
    return done.stdout


def test_every_block_of_the_doc_is_run_or_marked() -> None:
    run = {"Back up", "Restore", "Restore drill", "The local registry", "The signing keys"}
    for heading, fence, lines in doc_blocks():
        if fence.endswith("```console"):
            assert heading in run, f"console block under '{heading}' is run by no test"
            assert all(line.startswith("$ ") for line in lines if line.strip())
        else:
            marked = fence + "\n" + (lines[0] if lines else "")
            assert "(needs a cloud account)" in marked or "(example, not tested)" in marked, (
                heading,
                lines[:1],
            )


def test_the_doc_ledger_commands(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Back up, lose the ledger, restore, replace with --force, and drill into a scratch
    ledger: the doc's commands, in the default state directory of a repository."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "shiprail.yaml").write_text("version: 1\n")
    state = tmp_path / ".shiprail"
    local = World(state, world.engine.config)
    ship(local)
    local.ledger.engine.dispose()
    env = {"SHIPRAIL_ROOT": str(tmp_path), "SHIPRAIL_STATE_DIR": "", "SHIPRAIL_DATABASE_URL": ""}
    prod = json.loads(cli("history", "prod", "--json", env=env).stdout)
    assert len(prod) == 2

    (back_up,) = doc_commands("Back up")
    for line in back_up:
        run_doc(line, tmp_path, env)
    assert len(list((state / "backups").glob("ledger-*.tar"))) == 1
    with tarfile.open(tmp_path / "ledger-before-upgrade.tar") as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
    assert manifest["schema_revision"] == HEAD

    after_loss, replace = doc_commands("Restore")
    (state / "state.db").unlink()
    for line in after_loss:
        run_doc(line, tmp_path, env)
    assert json.loads(cli("history", "prod", "--json", env=env).stdout) == prod
    for line in replace:
        run_doc(line, tmp_path, env)
    assert (state / "state.db.before-restore").is_file()

    (drill,) = doc_commands("Restore drill")
    outputs = [run_doc(line, tmp_path, env) for line in drill]
    assert json.loads(outputs[1]) == json.loads(outputs[2]) == prod
    assert (tmp_path / "drill" / "state.db").is_file()


def test_the_doc_registry_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    require_tools("docker-registry", "htpasswd", "openssl")
    monkeypatch.chdir(tmp_path)
    env = {"SHIPRAIL_STATE_DIR": str(tmp_path / ".shiprail")}
    storage = tmp_path / ".shiprail" / "registry" / "storage"
    backup_block, restore_block = doc_commands("The local registry")
    try:
        assert cli("registry", "up", env=env).exit_code == 0
        blob = storage / "docker" / "registry" / "v2" / "blobs" / "marker"
        blob.parent.mkdir(parents=True, exist_ok=True)
        blob.write_text("a blob")
        for line in backup_block:
            run_doc(line, tmp_path, env)
        blob.write_text("changed after the copy")
        for line in restore_block:
            run_doc(line, tmp_path, env)
        assert blob.read_text() == "a blob"
        assert json.loads(cli("registry", "status", "--json", env=env).stdout)["running"] is True
    finally:
        cli("registry", "down", "--purge", env=env)


def test_the_doc_signing_key_commands(tmp_path: Path) -> None:
    keys = tmp_path / ".shiprail" / "keys"
    keys.mkdir(parents=True)
    (keys / "cosign.key").write_text("encrypted key")
    (keys / "cosign.key").chmod(0o600)
    (keys / "cosign.pub").write_text("public key")
    (back_up,), (restore,) = (
        doc_commands("The signing keys")[:1],
        doc_commands("The signing keys")[1:],
    )
    for line in back_up:
        run_doc(line, tmp_path, {})
    for path in keys.iterdir():
        path.unlink()
    keys.rmdir()
    for line in restore:
        run_doc(line, tmp_path, {})
    assert (keys / "cosign.key").read_text() == "encrypted key"
    assert (keys / "cosign.key").stat().st_mode & 0o777 == 0o600
