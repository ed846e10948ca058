"""What the ledger stores: its tables, and the frozen records read back from them.

Kept apart from :mod:`shiprail.deploy.ledger` (which owns transactions, locks and error
translation) so readers of release data, the Alembic environment and reports share one
definition of each row without the database code.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from shiprail.deploy.states import Action, AttemptState, ReleaseState

metadata = sa.MetaData()
releases = sa.Table(
    "releases",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("environment", sa.String(64), nullable=False, index=True),
    sa.Column("image", sa.String(512), nullable=False),
    sa.Column("image_digest", sa.String(128), nullable=False),
    sa.Column("git_sha", sa.String(64), nullable=False),
    sa.Column("created_by", sa.String(128), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("source_release", sa.String(64), nullable=True),
    sa.Column("colour", sa.String(16), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("live_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("sbom_digest", sa.String(128), nullable=True),
    sa.Column("dirty", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("verification", sa.Text, nullable=True),
)
attempts = sa.Table(
    "attempts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("environment", sa.String(64), nullable=False, index=True),
    sa.Column("release_id", sa.String(64), nullable=False, index=True),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("cause", sa.Text, nullable=True),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("timings", sa.Text, nullable=True),
    sa.Column("holder", sa.String(255), nullable=True),
)
approvals = sa.Table(
    "approvals",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("environment", sa.String(64), nullable=False),
    sa.Column("release_id", sa.String(64), nullable=False),
    sa.Column("approver", sa.String(128), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    # one approval per approver: ``requires_approvals: N`` counts distinct ones (migration 0004)
    sa.UniqueConstraint(
        "environment", "release_id", "approver", name="uq_approvals_env_release_approver"
    ),
)
locks = sa.Table(
    "locks",
    metadata,
    sa.Column("environment", sa.String(64), primary_key=True),
    sa.Column("holder", sa.String(255), nullable=False),
    sa.Column("host", sa.String(255), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("token", sa.String(64), nullable=False),
    sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
)

#: Incidents opened and resolved by hand (``shiprail incident``): DORA's change failures and
#: time to restore count them beside rollbacks and aborted canaries.
incidents = sa.Table(
    "incidents",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("environment", sa.String(64), nullable=False, index=True),
    sa.Column("release_id", sa.String(64), nullable=True),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("opened_by", sa.String(128), nullable=False),
    sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("resolved_by", sa.String(128), nullable=True),
    sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
)
#: Where a progressive rollout stands (one row per attempt): its step and weight for
#: ``status``, and the requests a person made of it from another process (abort, promote
#: without analysis), which the running rollout reads at every interval.
rollouts = sa.Table(
    "rollouts",
    metadata,
    sa.Column("attempt_id", sa.Integer, primary_key=True),
    sa.Column("environment", sa.String(64), nullable=False, index=True),
    sa.Column("release_id", sa.String(64), nullable=False),
    sa.Column("strategy", sa.String(32), nullable=False),
    sa.Column("phase", sa.String(32), nullable=False),
    sa.Column("step", sa.Integer, nullable=False),
    sa.Column("weight", sa.Integer, nullable=False),
    sa.Column("detail", sa.Text, nullable=True),
    sa.Column("requested", sa.String(32), nullable=True),
    sa.Column("requested_by", sa.String(128), nullable=True),
    sa.Column("request_reason", sa.Text, nullable=True),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

#: A "no" to a promotion (migration 0004); the release cannot enter the environment after it.
rejections = sa.Table(
    "rejections",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("environment", sa.String(64), nullable=False),
    sa.Column("release_id", sa.String(64), nullable=False, index=True),
    sa.Column("rejected_by", sa.String(128), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)
#: The console's accounts (argon2 hashes), sessions (SHA-256 of the token), login failures
#: and audit trail (migration 0004); ``shiprail.console.store`` reads and writes them.
console_users = sa.Table(
    "console_users",
    metadata,
    sa.Column("username", sa.String(64), primary_key=True),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)
console_sessions = sa.Table(
    "console_sessions",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("username", sa.String(64), nullable=False, index=True),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
)
console_login_failures = sa.Table(
    "console_login_failures",
    metadata,
    sa.Column("key", sa.String(160), primary_key=True),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
)
console_audit = sa.Table(
    "console_audit",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("account", sa.String(128), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("environment", sa.String(64), nullable=True),
    sa.Column("release_id", sa.String(64), nullable=True),
    sa.Column("detail", sa.Text, nullable=True),
)


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(value: datetime | None) -> datetime | None:
    """SQLite drops the zone; every timestamp the ledger writes is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def new_release_id(now: datetime | None = None) -> str:
    now = now or utcnow()
    return f"r{now:%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


@dataclass(frozen=True)
class Release:
    id: str
    environment: str
    image: str
    image_digest: str
    git_sha: str
    created_by: str
    created_at: datetime
    source_release: str | None
    colour: str
    status: ReleaseState
    live_at: datetime | None = None
    ended_at: datetime | None = None
    #: sha256 of the CycloneDX SBOM kept beside the release (None: none was made)
    sbom_digest: str | None = None
    #: built from a working tree with uncommitted changes (``--allow-dirty``)
    dirty: bool = False
    #: how the image was verified before it started, or why it was not (one line)
    verification: str | None = None

    def as_json(self) -> dict[str, Any]:
        data = self.__dict__.copy()
        for key in ("created_at", "live_at", "ended_at"):
            data[key] = data[key].isoformat() if data[key] else None
        return data


@dataclass(frozen=True)
class Attempt:
    id: int
    environment: str
    release_id: str
    action: Action
    actor: str
    status: AttemptState
    reason: str | None
    cause: str | None
    started_at: datetime
    finished_at: datetime | None
    timings: dict[str, float] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        data = self.__dict__.copy()
        data["started_at"] = self.started_at.isoformat()
        data["finished_at"] = self.finished_at.isoformat() if self.finished_at else None
        return data


@dataclass(frozen=True)
class Approval:
    environment: str
    release_id: str
    approver: str
    reason: str
    created_at: datetime


@dataclass(frozen=True)
class LockInfo:
    environment: str
    holder: str
    host: str
    pid: int
    acquired_at: datetime


def release_from_row(row: Any) -> Release:
    return Release(
        id=row.id,
        environment=row.environment,
        image=row.image,
        image_digest=row.image_digest,
        git_sha=row.git_sha,
        created_by=row.created_by,
        created_at=aware(row.created_at),  # type: ignore[arg-type]
        source_release=row.source_release,
        colour=row.colour,
        status=ReleaseState(row.status),
        live_at=aware(row.live_at),
        ended_at=aware(row.ended_at),
        sbom_digest=row.sbom_digest,
        dirty=bool(row.dirty),
        verification=row.verification,
    )


def attempt_from_row(row: Any) -> Attempt:
    return Attempt(
        id=row.id,
        environment=row.environment,
        release_id=row.release_id,
        action=Action(row.action),
        actor=row.actor,
        status=AttemptState(row.status),
        reason=row.reason,
        cause=row.cause,
        started_at=aware(row.started_at),  # type: ignore[arg-type]
        finished_at=aware(row.finished_at),
        timings=json.loads(row.timings) if row.timings else {},
    )
