"""The console's rows in the ledger: accounts, sessions, login failures and the audit trail.

Tables are created by migration ``0004_console``. Passwords are kept as argon2 hashes
(argon2-cffi); a session is kept as the SHA-256 of its random token, so neither a copy of the
ledger nor its backups sign anybody in. Every change the console makes is written to
``console_audit`` with the account that made it.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from shiprail.deploy.ledger import Ledger
from shiprail.deploy.records import aware, utcnow
from shiprail.deploy.records import console_audit as audit
from shiprail.deploy.records import console_login_failures as failures
from shiprail.deploy.records import console_sessions as sessions
from shiprail.deploy.records import console_users as users
from shiprail.errors import UsageError

#: The password hash of accounts that sign in through OIDC: no password matches it.
OIDC_HASH = "!oidc"
_USERNAME = re.compile(r"^[a-z][a-z0-9._-]{1,63}$")


class Role(StrEnum):
    """What an account may do; each role may do what the ones before it may."""

    viewer = "viewer"
    approver = "approver"
    deployer = "deployer"
    admin = "admin"

    def at_least(self, other: Role) -> bool:
        order = list(Role)
        return order.index(self) >= order.index(other)


@dataclass(frozen=True)
class Account:
    username: str
    role: Role
    created_at: datetime


@dataclass(frozen=True)
class Session:
    username: str
    role: Role
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    account: str
    action: str
    environment: str | None
    release_id: str | None
    detail: str | None


def check_username(name: str) -> str:
    if not _USERNAME.match(name):
        raise UsageError(
            f"account name '{name[:64]}' is not allowed",
            hint="2-64 characters: lower-case letters, digits, '.', '_' or '-', starting "
            "with a letter",
        )
    return name


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ConsoleStore:
    """Reads and writes the console's tables through the ledger's engine."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.engine = ledger.engine

    # -- accounts -----------------------------------------------------------------------
    def add_user(self, username: str, password_hash: str, role: Role) -> Account:
        account = Account(check_username(username), Role(role), utcnow())
        try:
            with self.engine.begin() as tx:
                tx.execute(
                    users.insert().values(
                        username=account.username,
                        password_hash=password_hash,
                        role=account.role.value,
                        created_at=account.created_at,
                    )
                )
        except IntegrityError:
            raise UsageError(
                f"account '{username}' exists already",
                hint=f"shiprail console users remove {username} first to replace it",
            ) from None
        return account

    def sync_oidc_user(self, username: str, role: Role) -> None:
        """The account an identity provider vouched for, with the role its groups grant now;
        its password hash is unusable, so it can only sign in through the provider."""
        with self.engine.begin() as tx:
            found = tx.execute(users.select().where(users.c.username == username)).first()
            if found is None:
                tx.execute(
                    users.insert().values(
                        username=username, password_hash=OIDC_HASH, role=role.value,
                        created_at=utcnow(),
                    )
                )  # fmt: skip
            elif found.password_hash != OIDC_HASH:
                raise UsageError(
                    f"a local account '{username}' exists: the identity provider cannot sign "
                    "in as it",
                    hint=f"shiprail console users remove {username}",
                )
            else:
                tx.execute(
                    users.update().where(users.c.username == username).values(role=role.value)
                )

    def remove_user(self, username: str) -> bool:
        with self.engine.begin() as tx:
            tx.execute(sessions.delete().where(sessions.c.username == username))
            return tx.execute(users.delete().where(users.c.username == username)).rowcount > 0

    def list_users(self) -> list[Account]:
        with self.engine.connect() as tx:
            rows = tx.execute(users.select().order_by(users.c.username))
            return [Account(r.username, Role(r.role), _at(r.created_at)) for r in rows]

    def password_hash(self, username: str) -> tuple[str, Role] | None:
        with self.engine.connect() as tx:
            row = tx.execute(users.select().where(users.c.username == username)).first()
        return (row.password_hash, Role(row.role)) if row else None

    def set_password_hash(self, username: str, password_hash: str) -> None:
        with self.engine.begin() as tx:
            tx.execute(
                users.update()
                .where(users.c.username == username)
                .values(password_hash=password_hash)
            )

    # -- sessions -----------------------------------------------------------------------
    def open_session(self, username: str, minutes: int) -> tuple[str, Session]:
        """A new session: the token goes in the cookie, only its digest in the ledger."""
        token = secrets.token_urlsafe(32)
        now = utcnow()
        found = self.password_hash(username)
        assert found is not None
        session = Session(
            username, found[1], secrets.token_urlsafe(32), now + timedelta(minutes=minutes)
        )
        with self.engine.begin() as tx:
            tx.execute(sessions.delete().where(sessions.c.expires_at < now))
            tx.execute(
                sessions.insert().values(
                    token_hash=_digest(token),
                    username=username,
                    csrf_token=session.csrf_token,
                    created_at=now,
                    expires_at=session.expires_at,
                )
            )
        return token, session

    def session(self, token: str) -> Session | None:
        """The live session of ``token``, with the account's current role (a removed
        account's sessions end at once)."""
        query = (
            sa.select(
                sessions.c.username, sessions.c.csrf_token, sessions.c.expires_at, users.c.role
            )
            .join(users, users.c.username == sessions.c.username)
            .where(sessions.c.token_hash == _digest(token))
        )
        with self.engine.connect() as tx:
            row = tx.execute(query).first()
        if row is None or _at(row.expires_at) <= utcnow():
            return None
        return Session(row.username, Role(row.role), row.csrf_token, _at(row.expires_at))

    def close_session(self, token: str) -> None:
        with self.engine.begin() as tx:
            tx.execute(sessions.delete().where(sessions.c.token_hash == _digest(token)))

    # -- login failures -----------------------------------------------------------------
    def locked_until(self, keys: list[str]) -> datetime | None:
        """The latest lock-out still running among ``keys`` (account, address), if any."""
        now = utcnow()
        with self.engine.connect() as tx:
            rows = tx.execute(failures.select().where(failures.c.key.in_(keys)))
            ends = [_at(r.locked_until) for r in rows if r.locked_until is not None]
        running = [end for end in ends if end > now]
        return max(running) if running else None

    def record_failure(self, keys: list[str], limit: int, lockout: timedelta) -> None:
        """Count a failed login against each key; the ``limit``-th within the lock-out
        window locks the key for ``lockout``."""
        now = utcnow()
        with self.engine.begin() as tx:
            for key in keys:
                row = tx.execute(failures.select().where(failures.c.key == key)).first()
                if row is None or _at(row.first_at) < now - lockout:
                    tx.execute(failures.delete().where(failures.c.key == key))
                    tx.execute(failures.insert().values(key=key, failures=1, first_at=now))
                    count = 1
                else:
                    count = row.failures + 1
                    tx.execute(
                        failures.update().where(failures.c.key == key).values(failures=count)
                    )
                if count >= limit:
                    tx.execute(
                        failures.update()
                        .where(failures.c.key == key)
                        .values(locked_until=now + lockout, failures=0, first_at=now)
                    )

    def clear_failures(self, key: str) -> None:
        with self.engine.begin() as tx:
            tx.execute(failures.delete().where(failures.c.key == key))

    # -- audit --------------------------------------------------------------------------
    def record(
        self,
        account: str,
        action: str,
        *,
        environment: str | None = None,
        release_id: str | None = None,
        detail: str | None = None,
    ) -> None:
        with self.engine.begin() as tx:
            tx.execute(
                audit.insert().values(
                    at=utcnow(),
                    account=account,
                    action=action,
                    environment=environment,
                    release_id=release_id,
                    detail=detail,
                )
            )

    def audit(self, limit: int = 100) -> list[AuditEntry]:
        with self.engine.connect() as tx:
            rows = tx.execute(audit.select().order_by(audit.c.id.desc()).limit(limit))
            return [
                AuditEntry(_at(r.at), r.account, r.action, r.environment, r.release_id, r.detail)
                for r in rows
            ]


def _at(value: datetime) -> datetime:
    result = aware(value)
    assert result is not None
    return result
