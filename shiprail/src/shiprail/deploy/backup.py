"""Backup and restore of the release ledger: losing it loses what runs where, who approved
it, the rollback targets and the DORA history.

A backup is one tar: ``manifest.json`` (format, database kind, Alembic revision, created_at,
shiprail version, the payload's size and sha256) and the payload, a copy made with SQLite's
online backup API (deploys may write meanwhile) or a ``pg_dump --format=custom`` archive.
Restore checks everything before it touches the target, replaces SQLite by rename (keeping
``<db>.before-restore``) and PostgreSQL in one transaction, then migrates to head. Exit codes:
UsageError (2) no usable backup here (missing, not a backup, a newer format or schema, another
database kind); Refused (1) a safety check said no (checksum, records without ``--force``, a
SQLite ledger in use); ToolError (3) the PostgreSQL tools or the database failed. Passwords
reach the PostgreSQL tools in their environment, never argv, and never a message.
"""

from __future__ import annotations

import contextlib
import dataclasses
import glob
import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from shiprail import __version__, _subprocess
from shiprail.deploy.ledger import MIGRATIONS, VERSION_TABLE, Ledger
from shiprail.deploy.records import metadata
from shiprail.errors import Refused, ToolCrashed, ToolMissing, UsageError

FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
PAYLOADS = {"sqlite": "ledger.sqlite", "postgresql": "ledger.pgdump"}
BEFORE_RESTORE_SUFFIX = ".before-restore"
SQLITE_BUSY_SECONDS = 10.0
#: Where Debian installs the client tools of each PostgreSQL major version.
PG_BIN_GLOB = "/usr/lib/postgresql/*/bin"
PG_HINT = "apt-get install -y postgresql-client (its major version at least the server's)"
PG_TIMEOUT_S = 1800.0
#: URL query parameters libpq reads from these environment variables.
_PG_QUERY_ENV = {"host": "PGHOST", "port": "PGPORT", "options": "PGOPTIONS"} | {
    name: f"PG{name.upper()}" for name in ("sslmode", "sslrootcert", "sslcert", "sslkey")
}
_URL_PASSWORD = re.compile(r"(://[^:/@\s]+:)[^@\s]+@")


@dataclass(frozen=True)
class Manifest:
    """What a backup says of itself; checked before its payload is used."""

    format: int
    database: str
    schema_revision: str | None
    created_at: str
    shiprail_version: str
    payload: str
    payload_sha256: str
    payload_bytes: int

    @classmethod
    def parse(cls, raw: bytes, where: Path) -> Manifest:
        try:
            data = json.loads(raw)
            manifest = cls(**{f.name: data[f.name] for f in dataclasses.fields(cls)})
        except (ValueError, KeyError, TypeError) as exc:
            raise _not_a_backup(where, f"its {MANIFEST_NAME} is not valid") from exc
        if not isinstance(manifest.format, int) or manifest.format > FORMAT_VERSION:
            raise UsageError(
                f"{where}: backup format {manifest.format!r} is newer than this shiprail "
                f"{__version__} reads ({FORMAT_VERSION})",
                hint=f"restore it with shiprail {manifest.shiprail_version} or newer",
            )
        if PAYLOADS.get(manifest.database) != manifest.payload:
            raise _not_a_backup(where, f"unknown database kind {manifest.database!r}")
        return manifest


@dataclass(frozen=True)
class BackupDone:
    path: Path
    ledger: str
    manifest: Manifest

    def as_json(self) -> dict[str, Any]:
        return {"path": str(self.path), "ledger": self.ledger, **vars(self.manifest)}


@dataclass(frozen=True)
class RestoreDone:
    path: Path
    ledger: str
    restored_revision: str | None
    schema_revision: str | None
    replaced: bool
    previous: Path | None

    def as_json(self) -> dict[str, Any]:
        return {k: str(v) if isinstance(v, Path) else v for k, v in vars(self).items()}


@dataclass(frozen=True)
class Database:
    """The ledger a backup is taken from or restored into; ``shown`` hides the password."""

    url: str
    kind: str
    shown: str

    @property
    def parsed(self) -> sa.URL:
        return sa.engine.make_url(self.url)

    @property
    def sqlite_path(self) -> Path:
        return Path(self.parsed.database or "")


def database(url: str) -> Database:
    """The ledger at ``url``: a SQLite file or a PostgreSQL database, else a usage error."""
    try:
        parsed = sa.engine.make_url(url)
    except ArgumentError as exc:
        raise UsageError(f"ledger database URL is not valid: {redact(url)}") from exc
    kind, shown = parsed.get_backend_name(), parsed.render_as_string(hide_password=True)
    if kind not in PAYLOADS:
        raise UsageError(f"ledger backups support SQLite and PostgreSQL, not {kind} ({shown})")
    if parsed.database in (None, "", ":memory:"):
        raise UsageError(f"the ledger URL names no database file or name ({shown})")
    return Database(url, kind, shown)


def redact(text: str) -> str:
    """``text`` without the password of any URL it quotes."""
    return _URL_PASSWORD.sub(r"\1***@", text)


def revisions() -> tuple[str, set[str]]:
    """This shiprail's head schema revision, and every revision it knows."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    scripts = ScriptDirectory.from_config(cfg)
    return str(scripts.get_current_head()), {s.revision for s in scripts.walk_revisions()}


def _check_compatible(manifest: Manifest, target: Database, archive: Path) -> None:
    """Refuse another database kind, or a schema this shiprail does not know: a newer
    shiprail made it, and the migrations that could read or downgrade it are not here."""
    if manifest.database != target.kind:
        raise UsageError(
            f"{archive} is a {manifest.database} backup; the ledger {target.shown} is "
            f"{target.kind}",
            hint=f"point SHIPRAIL_DATABASE_URL at a {manifest.database} database to restore it",
        )
    head, known = revisions()
    if manifest.schema_revision is not None and manifest.schema_revision not in known:
        raise UsageError(
            f"{archive} holds ledger schema revision '{manifest.schema_revision}', newer "
            f"than this shiprail {__version__} knows (its newest is '{head}')",
            hint=f"restore it with shiprail {manifest.shiprail_version} or newer; the ledger "
            f"{target.shown} was left as it was",
        )


# -- the archive ----------------------------------------------------------------------------
def _not_a_backup(where: Path, why: str) -> UsageError:
    return UsageError(
        f"{where} is not a ledger backup: {why}",
        hint="pass a file made by `shiprail ledger backup`",
    )


def _digest(path: Path) -> tuple[str, int]:
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest(), path.stat().st_size


def _write_archive(path: Path, manifest: Manifest, payload: Path) -> None:
    """Write the tar beside ``path`` (mode 0600) and rename it into place: a backup file is
    complete or absent, never half-written."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    try:
        with os.fdopen(fd, "wb") as raw:
            with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
                text = json.dumps(vars(manifest), indent=2).encode() + b"\n"
                tar.addfile(_member(MANIFEST_NAME, len(text)), io.BytesIO(text))
                with payload.open("rb") as stream:
                    tar.addfile(_member(manifest.payload, manifest.payload_bytes), stream)
            raw.flush()
            os.fsync(raw.fileno())
        os.chmod(partial, 0o600)
        os.replace(partial, path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


def _member(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, 0o600, int(datetime.now(UTC).timestamp())
    return info


def _read_archive(archive: Path, work: Path) -> tuple[Manifest, Path]:
    """The manifest, and the payload copied into ``work`` with its checksum verified.
    Members are read as streams, never extracted under the names they carry."""
    if not archive.is_file():
        raise UsageError(f"{archive}: no such backup file")
    try:
        with tarfile.open(archive, mode="r:*") as tar:
            raw = (tar.extractfile(MANIFEST_NAME) or io.BytesIO()).read()
            manifest = Manifest.parse(raw, archive)
            payload = work / manifest.payload
            with payload.open("wb") as out:
                shutil.copyfileobj(tar.extractfile(manifest.payload) or io.BytesIO(), out)
    except KeyError as exc:
        raise _not_a_backup(archive, str(exc.args[0])) from exc
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise _not_a_backup(archive, f"unreadable ({type(exc).__name__})") from exc
    digest, size = _digest(payload)
    if (digest, size) != (manifest.payload_sha256, manifest.payload_bytes):
        raise Refused(
            f"{archive} is damaged: {manifest.payload} has sha256 {digest[:16]}..., its "
            f"manifest says {manifest.payload_sha256[:16]}...; nothing was restored",
            hint="restore an older backup, or copy this one again from where it is kept",
        )
    return manifest, payload


# -- the database ---------------------------------------------------------------------------
@contextlib.contextmanager
def _connect(target: Database, *, begin: bool = False) -> Iterator[sa.Connection]:
    engine = sa.create_engine(target.url, future=True)
    try:
        with engine.begin() if begin else engine.connect() as connection:
            yield connection
    except SQLAlchemyError as exc:
        first = (str(getattr(exc, "orig", None) or exc).splitlines() or [""])[0]
        detail = f"{type(exc).__name__}: {redact(first)[:300]}"
        raise ToolCrashed(f"ledger database {target.shown}: {detail}") from exc
    finally:
        engine.dispose()


def contents(target: Database) -> tuple[int, str | None]:
    """How many records the ledger holds, and its Alembic revision (0 and None when the
    database or its tables do not exist)."""
    if target.kind == "sqlite" and not target.sqlite_path.is_file():
        return 0, None
    with _connect(target) as connection:
        present = set(sa.inspect(connection).get_table_names())
        count = sa.select(sa.func.count())
        rows = sum(
            connection.execute(count.select_from(table)).scalar_one()
            for table in metadata.sorted_tables
            if table.name in present
        )
        query = sa.select(sa.table(VERSION_TABLE, sa.column("version_num", sa.String)).c[0])
        return rows, connection.execute(query).scalar() if VERSION_TABLE in present else None


# -- SQLite ---------------------------------------------------------------------------------
def _sqlite_copy(source: Path, destination: Path) -> str | None:
    """A consistent copy of a live SQLite ledger (the online backup API copies one snapshot
    while writers go on), intact and in one file (no WAL); returns the revision it holds."""
    if not source.is_file():
        raise UsageError(
            f"no SQLite ledger at {source}: nothing to back up",
            hint="check SHIPRAIL_STATE_DIR and SHIPRAIL_DATABASE_URL",
        )
    try:
        with (
            contextlib.closing(sqlite3.connect(source, timeout=SQLITE_BUSY_SECONDS)) as src,
            contextlib.closing(sqlite3.connect(destination)) as dst,
        ):
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")
            (verdict,) = dst.execute("PRAGMA integrity_check").fetchone()
    except sqlite3.Error as exc:
        raise ToolCrashed(f"could not copy the SQLite ledger {source}: {exc}") from exc
    if verdict != "ok":
        raise ToolCrashed(f"the SQLite ledger {source} is damaged: {verdict}")
    return contents(Database(f"sqlite:///{destination}", "sqlite", str(destination)))[1]


def _restore_sqlite(payload: Path, db: Path) -> Path | None:
    """Put ``payload`` in place of ``db`` by rename; the old ledger is kept as
    ``<db>.before-restore``, which is returned (None when there was none)."""
    db.parent.mkdir(parents=True, exist_ok=True)
    fd, fresh = tempfile.mkstemp(dir=db.parent, prefix=f".{db.name}.", suffix=".restore")
    try:
        with os.fdopen(fd, "wb") as out, payload.open("rb") as stream:
            shutil.copyfileobj(stream, out)
            out.flush()
            os.fsync(out.fileno())
        previous = _set_aside(db) if db.exists() else None
        for leftover in ("-wal", "-shm", "-journal"):
            db.with_name(db.name + leftover).unlink(missing_ok=True)
        os.replace(fresh, db)
        return previous
    finally:
        Path(fresh).unlink(missing_ok=True)


def _set_aside(db: Path) -> Path:
    """Copy the ledger to ``<db>.before-restore`` and empty its WAL, so nothing of the old
    file is replayed onto the restored one. A ledger in use is refused: the process holding
    it open would go on writing to the file being replaced."""
    previous = db.with_name(db.name + BEFORE_RESTORE_SUFFIX)
    previous.unlink(missing_ok=True)
    try:
        with (
            contextlib.closing(sqlite3.connect(db, timeout=SQLITE_BUSY_SECONDS)) as old,
            contextlib.closing(sqlite3.connect(previous)) as copy,
        ):
            old.backup(copy)
            busy, _log, _moved = old.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    except sqlite3.Error as exc:
        raise ToolCrashed(f"could not set the ledger {db} aside: {exc}") from exc
    os.chmod(previous, 0o600)
    if busy:
        raise Refused(
            f"the ledger {db} is in use by another process; nothing was restored",
            hint="stop deploys and `shiprail metrics serve` on this host, then restore",
        )
    return previous


# -- PostgreSQL -----------------------------------------------------------------------------
def _pg_tool(name: str) -> str:
    """``name`` where shiprail finds tools, else the newest Debian install of it."""
    if found := _subprocess.which(name):
        return found
    major = {path: Path(path).parent.parent.name for path in glob.glob(f"{PG_BIN_GLOB}/{name}")}
    if not major:
        raise ToolMissing(name, PG_HINT)
    return max(major, key=lambda path: int(major[path]) if major[path].isdigit() else 0)


def _pg_env(target: Database) -> dict[str, str]:
    """libpq's environment for ``target``: the password travels here, not in argv."""
    url = target.parsed
    env = {"PGHOST": url.host, "PGPORT": url.port, "PGUSER": url.username}
    env |= {"PGPASSWORD": url.password, "PGDATABASE": url.database}
    for name, variable in _PG_QUERY_ENV.items():
        if (value := url.query.get(name)) is not None:
            env[variable] = value if isinstance(value, str) else value[-1]
    return {name: str(value) for name, value in env.items() if value is not None}


def _pg_run(name: str, args: list[str], target: Database) -> str:
    """Run a PostgreSQL client tool on ``target``; a failure is a ToolCrashed without the
    password."""
    command = [_pg_tool(name), *args]
    done = _subprocess.run(command, env=_pg_env(target), timeout=PG_TIMEOUT_S, ok_codes=None)
    if done.returncode != 0:
        tail = redact(" / ".join(done.stderr.strip().splitlines()[-4:]))
        raise ToolCrashed(
            f"{name} failed on {target.shown} (exit {done.returncode}): {tail}",
            hint="is the server reachable, and are the client tools at least its version?",
        )
    return done.stdout


def _pg_dump(target: Database, destination: Path) -> str | None:
    """A ``pg_dump`` archive; returns its schema revision, read before and after the dump
    so a migration running meanwhile cannot go unnoticed."""
    _rows, before = contents(target)
    _pg_run("pg_dump", ["--format=custom", f"--file={destination}"], target)
    if contents(target)[1] != before:
        raise ToolCrashed(f"the ledger {target.shown} was migrated during the backup: run it again")
    return before


def _restore_postgresql(payload: Path, target: Database) -> None:
    """``pg_restore --clean --if-exists`` in one transaction (all or nothing), then drop the
    ledger tables the backup predates, so the migrations create them afresh."""
    listing = _pg_run("pg_restore", ["--list", str(payload)], target)
    dumped = set(re.findall(r" TABLE \S+ (\S+) ", listing))
    options = ["--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction"]
    database_name = f"--dbname={target.parsed.database}"
    _pg_run("pg_restore", [*options, "--exit-on-error", database_name, str(payload)], target)
    with _connect(target, begin=True) as connection:
        for table in reversed(metadata.sorted_tables):
            if table.name not in dumped:
                table.drop(connection, checkfirst=True)


# -- the commands ---------------------------------------------------------------------------
def backup(url: str, output: Path) -> BackupDone:
    """Write a backup of the ledger at ``url`` to ``output`` (mode 0600, atomically)."""
    target = database(url)
    with tempfile.TemporaryDirectory(prefix="shiprail-backup-") as work:
        payload = Path(work) / PAYLOADS[target.kind]
        if target.kind == "sqlite":
            revision = _sqlite_copy(target.sqlite_path, payload)
        else:
            revision = _pg_dump(target, payload)
        digest, size = _digest(payload)
        created = datetime.now(UTC).isoformat(timespec="seconds")
        manifest = Manifest(
            FORMAT_VERSION, target.kind, revision, created, __version__, payload.name, digest, size
        )
        _write_archive(output, manifest, payload)
    return BackupDone(output, target.shown, manifest)


def restore(url: str, archive: Path, *, force: bool = False) -> RestoreDone:
    """Replace the ledger at ``url`` with ``archive`` and migrate it to head; every check
    (checksum, kind, schema revision, records held) runs before the target is touched."""
    target = database(url)
    with tempfile.TemporaryDirectory(prefix="shiprail-restore-") as work:
        manifest, payload = _read_archive(archive, Path(work))
        _check_compatible(manifest, target, archive)
        rows, _revision = contents(target)
        if rows and not force:
            raise Refused(
                f"the ledger {target.shown} holds {rows} record(s); restoring {archive} "
                "would replace them",
                hint="back it up first (`shiprail ledger backup`), then restore with --force",
            )
        previous = None
        if target.kind == "sqlite":
            previous = _restore_sqlite(payload, target.sqlite_path)
        else:
            _restore_postgresql(payload, target)
    ledger = Ledger(url)
    try:
        ledger.migrate()
    finally:
        ledger.engine.dispose()
    revision = contents(target)[1]
    return RestoreDone(
        archive, target.shown, manifest.schema_revision, revision, bool(rows), previous
    )
