"""Sign-in: argon2 password hashes (argon2-cffi), lock-out after repeated failures, roles.

A failed login counts against the account name *and* the client address, so guessing many
passwords for one account and one password for many accounts are both slowed to a stop. An
unknown account costs the same hash verification as a known one, so timing does not tell
which accounts exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from shiprail.console.settings import ConsoleConfig
from shiprail.console.store import ConsoleStore, Role, Session
from shiprail.errors import UsageError

MIN_PASSWORD_LENGTH = 12
_hasher = PasswordHasher()
#: Verified against when the account does not exist (same cost, no account oracle).
_DUMMY_HASH = _hasher.hash("not-a-password-of-anyone")


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UsageError(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


@dataclass(frozen=True)
class LoginResult:
    token: str | None
    session: Session | None
    #: set when the account or address is locked out (the form says until when)
    locked_until: datetime | None = None


def login(
    store: ConsoleStore, config: ConsoleConfig, username: str, password: str, address: str
) -> LoginResult:
    """Check the password; a session on success, a lock-out time when locked, else nothing."""
    keys = [f"user:{username[:64]}", f"addr:{address[:64]}"]
    if (until := store.locked_until(keys)) is not None:
        return LoginResult(None, None, until)
    found = store.password_hash(username)
    stored = found[0] if found else _DUMMY_HASH
    try:
        ok = _hasher.verify(stored, password) and found is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    if not ok:
        store.record_failure(
            keys, config.max_login_failures, timedelta(minutes=config.lockout_minutes)
        )
        return LoginResult(None, None, store.locked_until(keys))
    if _hasher.check_needs_rehash(stored):
        store.set_password_hash(username, _hasher.hash(password))
    store.clear_failures(keys[0])
    token, session = store.open_session(username, config.session_minutes)
    store.record(username, "login", detail=f"from {address[:64]}")
    return LoginResult(token, session)


def may(session: Session | None, role: Role) -> bool:
    return session is not None and session.role.at_least(role)
