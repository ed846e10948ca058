"""The release ledger: releases, deploy attempts (intent, then outcome), approvals, locks.

SQLAlchemy Core over SQLite by default (``SHIPRAIL_DATABASE_URL``) or PostgreSQL for teams;
the schema is owned by the Alembic migrations beside this module. Every change to an
environment is written as an *intent* before anything is touched and closed with an
*outcome*, so an interrupted run is visible (``interrupted``) and the next run can clean up.

Database errors are translated here, at one boundary, into :class:`ToolCrashed`.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, NoSuchModuleError, SQLAlchemyError

from shiprail._subprocess import pid_alive
from shiprail.deploy.records import (
    Approval,
    Attempt,
    LockInfo,
    Release,
    approvals,
    attempt_from_row,
    attempts,
    aware,
    locks,
    new_release_id,
    release_from_row,
    releases,
    utcnow,
)
from shiprail.deploy.states import ENDED, Action, AttemptState, ReleaseState
from shiprail.errors import LockHeld, ToolCrashed, UsageError

VERSION_TABLE = "shiprail_ledger_version"
MIGRATIONS = Path(__file__).with_name("migrations")
#: A lock held by another host is considered abandoned after this long without a heartbeat.
LOCK_STALE_SECONDS = 15 * 60
#: How often ``--wait`` polls a held lock.
LOCK_POLL_SECONDS = 1.0
#: A URL that does not parse is a usage error; its text is never quoted (it may hold a password).
_BAD_URL = "SHIPRAIL_DATABASE_URL is not a database URL"
_URL_HINT = "use sqlite:///path/to/state.db or postgresql+psycopg://user:password@host/db"


class Ledger:
    """Access to the ledger database; ``migrate()`` brings the schema to the newest version."""

    def __init__(self, url: str) -> None:
        self.url = url
        try:
            parsed = sa.engine.make_url(url)
            if "\x00" in url:
                raise ValueError("NUL character")
        except (SQLAlchemyError, ValueError, TypeError):
            raise UsageError(_BAD_URL, hint=_URL_HINT) from None
        try:
            self.engine = sa.create_engine(parsed, future=True, pool_pre_ping=True)
        except NoSuchModuleError:
            raise UsageError(
                "SHIPRAIL_DATABASE_URL names a database shiprail cannot use", hint=_URL_HINT
            ) from None
        except ImportError as exc:
            raise ToolCrashed(
                f"the driver for ledger database '{parsed.drivername}' is not installed"
            ) from exc
        except (SQLAlchemyError, ValueError, TypeError) as exc:
            raise UsageError(f"{_BAD_URL} ({type(exc).__name__})", hint=_URL_HINT) from None
        if parsed.get_backend_name() == "sqlite":
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
            if parsed.database and parsed.database != ":memory:":
                try:
                    Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
                except (OSError, ValueError) as exc:
                    reason = getattr(exc, "strerror", None) or str(exc)
                    raise UsageError(
                        f"the SQLite ledger's directory cannot be created: {reason}"
                    ) from None

    # -- schema -------------------------------------------------------------------------
    def migrate(self) -> None:
        """Apply the Alembic migrations up to ``head`` (idempotent)."""
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        try:
            with self.engine.begin() as connection:
                cfg.attributes["connection"] = connection
                command.upgrade(cfg, "head")
        except SQLAlchemyError as exc:
            raise ToolCrashed(f"ledger database unreachable or broken: {_safe(exc)}") from exc

    @contextmanager
    def _tx(self) -> Iterator[sa.Connection]:
        try:
            with self.engine.begin() as connection:
                yield connection
        except IntegrityError:
            raise
        except SQLAlchemyError as exc:
            raise ToolCrashed(f"ledger database error: {_safe(exc)}") from exc

    # -- releases -----------------------------------------------------------------------
    def create_release(
        self,
        *,
        environment: str,
        image: str,
        image_digest: str,
        git_sha: str,
        created_by: str,
        colour: str,
        source_release: str | None = None,
        release_id: str | None = None,
        status: ReleaseState = ReleaseState.pending,
        sbom_digest: str | None = None,
        dirty: bool = False,
        verification: str | None = None,
    ) -> Release:
        """A new release row; ``refused`` ones are recorded ended (they never start)."""
        now = utcnow()
        release = Release(
            id=release_id or new_release_id(),
            environment=environment,
            image=image,
            image_digest=image_digest,
            git_sha=git_sha,
            created_by=created_by,
            created_at=now,
            source_release=source_release,
            colour=colour,
            status=status,
            ended_at=now if status in ENDED else None,
            sbom_digest=sbom_digest,
            dirty=dirty,
            verification=verification,
        )
        with self._tx() as tx:
            tx.execute(releases.insert().values(**release.__dict__))
        return release

    def set_release_status(self, release_id: str, status: ReleaseState) -> None:
        status = ReleaseState(status)
        values: dict[str, Any] = {"status": status}
        if status == ReleaseState.live:
            values["live_at"] = utcnow()
            values["ended_at"] = None
        elif status in ENDED:
            values["ended_at"] = utcnow()
        with self._tx() as tx:
            tx.execute(releases.update().where(releases.c.id == release_id).values(**values))

    def release(self, release_id: str) -> Release | None:
        with self._tx() as tx:
            row = tx.execute(releases.select().where(releases.c.id == release_id)).first()
        return release_from_row(row) if row else None

    def releases(self, environment: str, *, status: ReleaseState | None = None) -> list[Release]:
        """Newest first."""
        query = releases.select().where(releases.c.environment == environment)
        if status:
            query = query.where(releases.c.status == status)
        with self._tx() as tx:
            rows = tx.execute(query.order_by(releases.c.created_at.desc(), releases.c.id.desc()))
            return [release_from_row(row) for row in rows]

    def live_release(self, environment: str) -> Release | None:
        live = self.releases(environment, status=ReleaseState.live)
        return live[0] if live else None

    def environments(self) -> list[str]:
        with self._tx() as tx:
            rows = tx.execute(sa.select(releases.c.environment).distinct())
            return sorted(row[0] for row in rows)

    # -- attempts -----------------------------------------------------------------------
    def begin_attempt(
        self,
        *,
        environment: str,
        release_id: str,
        action: Action,
        actor: str,
        holder: str = "",
    ) -> int:
        """Record the intent before acting; returns the attempt id to close later."""
        with self._tx() as tx:
            result = tx.execute(
                attempts.insert().values(
                    environment=environment,
                    release_id=release_id,
                    action=action,
                    actor=actor,
                    status=AttemptState.intent,
                    started_at=utcnow(),
                    holder=holder,
                )
            )
            key = result.inserted_primary_key
            assert key is not None
            return int(key[0])

    def finish_attempt(
        self,
        attempt_id: int,
        *,
        status: AttemptState,
        reason: str | None = None,
        cause: str | None = None,
        timings: dict[str, float] | None = None,
    ) -> None:
        with self._tx() as tx:
            tx.execute(
                attempts.update()
                .where(attempts.c.id == attempt_id)
                .values(
                    status=status,
                    reason=reason,
                    cause=cause,
                    finished_at=utcnow(),
                    timings=json.dumps({k: round(v, 3) for k, v in (timings or {}).items()}),
                )
            )

    def attempts(self, environment: str, *, limit: int = 100) -> list[Attempt]:
        """Newest first."""
        query = (
            attempts.select()
            .where(attempts.c.environment == environment)
            .order_by(attempts.c.id.desc())
            .limit(limit)
        )
        with self._tx() as tx:
            return [attempt_from_row(row) for row in tx.execute(query)]

    def open_attempts(self, environment: str) -> list[Attempt]:
        """Attempts whose outcome was never written (the process died mid-way)."""
        query = attempts.select().where(
            attempts.c.environment == environment, attempts.c.status == AttemptState.intent
        )
        with self._tx() as tx:
            return [attempt_from_row(row) for row in tx.execute(query)]

    # -- approvals ----------------------------------------------------------------------
    def approve(self, *, environment: str, release_id: str, approver: str, reason: str) -> Approval:
        approval = Approval(environment, release_id, approver, reason, utcnow())
        try:
            with self._tx() as tx:
                tx.execute(approvals.insert().values(**approval.__dict__))
        except IntegrityError:
            existing = self.approval(environment, release_id)
            assert existing is not None
            return existing
        return approval

    def approval(self, environment: str, release_id: str) -> Approval | None:
        query = approvals.select().where(
            approvals.c.environment == environment, approvals.c.release_id == release_id
        )
        with self._tx() as tx:
            row = tx.execute(query).first()
        if row is None:
            return None
        return Approval(
            row.environment,
            row.release_id,
            row.approver,
            row.reason,
            aware(row.created_at),  # type: ignore[arg-type]
        )

    # -- locks --------------------------------------------------------------------------
    def lock_info(self, environment: str) -> LockInfo | None:
        with self._tx() as tx:
            row = tx.execute(locks.select().where(locks.c.environment == environment)).first()
        if row is None:
            return None
        return LockInfo(row.environment, row.holder, row.host, row.pid, aware(row.acquired_at))  # type: ignore[arg-type]

    def lock_is_stale(self, environment: str) -> bool:
        """Whether the environment's lock is held by a process that is gone (the rule
        ``try_lock`` takes a lock over by); False when it is free."""
        with self._tx() as tx:
            row = tx.execute(locks.select().where(locks.c.environment == environment)).first()
        return row is not None and self._is_stale(row)

    def _is_stale(self, row: Any) -> bool:
        if row.host == socket.gethostname():
            return not pid_alive(int(row.pid))
        age = (utcnow() - aware(row.heartbeat_at)).total_seconds()  # type: ignore[operator]
        return age > LOCK_STALE_SECONDS

    def try_lock(self, environment: str, holder: str) -> tuple[str | None, LockInfo | None]:
        """Take the lock; returns (token, None), or (None, info) when held, or takes over a
        stale lock (the holder's process is gone) and returns (token, info-of-stale-holder)."""
        token = secrets.token_hex(8)
        now = utcnow()
        values = {
            "environment": environment,
            "holder": holder,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "token": token,
            "acquired_at": now,
            "heartbeat_at": now,
        }
        try:
            with self._tx() as tx:
                tx.execute(locks.insert().values(**values))
            return token, None
        except IntegrityError:
            pass
        with self._tx() as tx:
            row = tx.execute(locks.select().where(locks.c.environment == environment)).first()
            if row is None:
                return None, None  # released meanwhile; the caller retries
            info = LockInfo(row.environment, row.holder, row.host, row.pid, aware(row.acquired_at))  # type: ignore[arg-type]
            if not self._is_stale(row):
                return None, info
            taken = tx.execute(
                locks.update()
                .where(locks.c.environment == environment, locks.c.token == row.token)
                .values(**values)
            )
            return (token, info) if taken.rowcount == 1 else (None, info)

    def heartbeat(self, environment: str, token: str) -> None:
        with self._tx() as tx:
            tx.execute(
                locks.update()
                .where(locks.c.environment == environment, locks.c.token == token)
                .values(heartbeat_at=utcnow())
            )

    def unlock(self, environment: str, token: str | None = None) -> bool:
        """Release the lock (``token=None`` removes it whoever holds it: the manual recovery)."""
        query = locks.delete().where(locks.c.environment == environment)
        if token is not None:
            query = query.where(locks.c.token == token)
        with self._tx() as tx:
            return tx.execute(query).rowcount > 0

    @contextmanager
    def lock(
        self,
        environment: str,
        holder: str,
        *,
        wait: bool = False,
        timeout: float = 1800.0,
        on_recovered: Any = None,
    ) -> Iterator[str]:
        """Hold the environment's lock for the body; refuse (or wait) when another deploy has it.

        A lock whose process is gone (same host, dead pid) or whose heartbeat is older than
        :data:`LOCK_STALE_SECONDS` is taken over; ``on_recovered(info)`` is told about it so
        the caller can mark the abandoned attempt ``interrupted``.
        """
        deadline = time.monotonic() + timeout
        while True:
            token, info = self.try_lock(environment, holder)
            if token is not None:
                if info is not None and on_recovered is not None:
                    on_recovered(info)
                break
            if info is not None and not wait:
                raise LockHeld(
                    f"environment '{environment}' is locked by another deploy "
                    f"({info.holder}, since {info.acquired_at:%Y-%m-%d %H:%M:%S} UTC)",
                    hint="wait for it to finish, or pass --wait to queue behind it; a lock "
                    "left by a killed process is recovered automatically",
                )
            if time.monotonic() > deadline:
                raise LockHeld(
                    f"gave up waiting for the lock on '{environment}' after {timeout:.0f}s"
                )
            time.sleep(LOCK_POLL_SECONDS)
        try:
            yield token
        finally:
            self.unlock(environment, token)


def _safe(exc: BaseException) -> str:
    """The error's class and first line without the URL (which may carry a password)."""
    text = str(getattr(exc, "orig", None) or exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}"[:300]


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()
