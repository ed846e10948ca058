"""Approvals: promotion into a guarded environment (stage, prod) needs named people's yes.

An approval names the environment and the exact release (so approving one build never lets
another through), who gave it, when and why; it is stored in the ledger and shown by
``shiprail history`` and the console.

Four eyes: the person who deployed a release, or asked for its promotion, cannot approve it,
and cannot count as an approver of a promotion they run themselves. The rule lives here, so
``shiprail approve`` and the console's Approve button are held to the same check.
``requires_approvals: N`` asks for N distinct approvers. A rejection (console, or
``reject()``) stops the promotion of that release into that environment for good: a new
release has to be promoted.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from shiprail.deploy.ledger import Ledger
from shiprail.deploy.records import (
    Approval,
    Release,
    approvals,
    attempts,
    aware,
    rejections,
    release_from_row,
    releases,
    utcnow,
)
from shiprail.deploy.states import Action, AttemptState, ReleaseState
from shiprail.errors import ApprovalPending, Refused, UsageError
from shiprail.settings import get_settings

#: How many awaiting-approval attempts per environment the pending list looks back over.
PENDING_LOOKBACK = 200


@dataclass(frozen=True)
class Rejection:
    environment: str
    release_id: str
    rejected_by: str
    reason: str
    created_at: datetime


@dataclass(frozen=True)
class Pending:
    """A promotion asked for and not shipped yet: the release, who asked, who approved."""

    environment: str
    release: Release
    requested_by: str
    requested_at: datetime
    needed: int
    approvals: tuple[Approval, ...]

    @property
    def approved(self) -> bool:
        return len(self.approvals) >= self.needed


def current_actor() -> str:
    """Who is acting: ``SHIPRAIL_ACTOR``, the CI's user (``GITHUB_ACTOR``), else the login."""
    settings = get_settings()
    if value := settings.actor or settings.github_actor:
        return value[:128]
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def involved(ledger: Ledger, environment: str, release: Release) -> set[str]:
    """Who may not approve ``release`` into ``environment``: whoever deployed it, and whoever
    asked for (or ran) its promotion there."""
    query = sa.select(attempts.c.actor).where(
        attempts.c.release_id == release.id,
        sa.or_(
            attempts.c.environment == release.environment,
            sa.and_(attempts.c.environment == environment, attempts.c.action == Action.promote),
        ),
    )
    with ledger.engine.connect() as connection:
        actors = {row[0] for row in connection.execute(query)}
    return actors | {release.created_by}


def approvals_of(ledger: Ledger, environment: str, release_id: str) -> list[Approval]:
    """Every approval of ``release_id`` into ``environment``, oldest first."""
    query = (
        approvals.select()
        .where(approvals.c.environment == environment, approvals.c.release_id == release_id)
        .order_by(approvals.c.created_at, approvals.c.id)
    )
    with ledger.engine.connect() as connection:
        return [
            Approval(r.environment, r.release_id, r.approver, r.reason, _aware(r.created_at))
            for r in connection.execute(query)
        ]


def rejection(ledger: Ledger, environment: str, release_id: str) -> Rejection | None:
    query = rejections.select().where(
        rejections.c.environment == environment, rejections.c.release_id == release_id
    )
    with ledger.engine.connect() as connection:
        row = connection.execute(query.order_by(rejections.c.id)).first()
    if row is None:
        return None
    return Rejection(
        row.environment, row.release_id, row.rejected_by, row.reason, _aware(row.created_at)
    )


def _decidable(ledger: Ledger, environment: str, release_id: str, reason: str) -> Release:
    """The release a decision is about, once the decision is possible at all."""
    if not reason.strip():
        raise UsageError("an approval needs a reason", hint="--reason 'why this release may go'")
    release = ledger.release(release_id)
    if release is None:
        raise UsageError(
            f"release '{release_id}' is not in the ledger",
            hint="shiprail status shows the release running in each environment",
        )
    if release.status in (ReleaseState.failed, ReleaseState.refused):
        raise UsageError(
            f"release '{release_id}' {release.status} in {release.environment}; "
            "it cannot be approved"
        )
    if (rejected := rejection(ledger, environment, release_id)) is not None:
        raise Refused(
            f"release {release_id} was rejected for {environment} by {rejected.rejected_by}: "
            f"{rejected.reason}",
            hint="fix what the rejection names and promote a new release",
        )
    return release


def approve(
    ledger: Ledger, environment: str, release_id: str, approver: str, reason: str
) -> Approval:
    """Record ``approver``'s yes; refused (exit 1) when they deployed or promoted the release
    themselves. Approving twice returns the first approval."""
    release = _decidable(ledger, environment, release_id, reason)
    if approver in involved(ledger, environment, release):
        raise Refused(
            f"{approver} deployed or promoted release {release_id} and cannot approve it "
            "(four eyes)",
            hint="another approver has to approve it",
        )
    for existing in approvals_of(ledger, environment, release_id):
        if existing.approver == approver:
            return existing
    return ledger.approve(
        environment=environment, release_id=release_id, approver=approver, reason=reason
    )


def reject(
    ledger: Ledger, environment: str, release_id: str, account: str, reason: str
) -> Rejection:
    """Record a no: the release cannot be promoted into ``environment`` any more."""
    _decidable(ledger, environment, release_id, reason)
    found = Rejection(environment, release_id, account, reason, utcnow())
    with ledger.engine.begin() as connection:
        connection.execute(rejections.insert().values(**found.__dict__))
    return found


def require_approval(
    ledger: Ledger,
    environment: str,
    release: Release,
    needed: int = 1,
    promoter: str | None = None,
) -> Approval:
    """The approval for promoting ``release`` into ``environment`` (the latest of the
    ``needed`` distinct ones that count), or exit 4 saying how many are missing. Approvals
    by ``promoter`` (the person running the promotion) do not count."""
    if (rejected := rejection(ledger, environment, release.id)) is not None:
        raise Refused(
            f"release {release.id} was rejected for {environment} by {rejected.rejected_by}: "
            f"{rejected.reason}"
        )
    excluded = involved(ledger, environment, release) | ({promoter} if promoter else set())
    counted = [
        a for a in approvals_of(ledger, environment, release.id) if a.approver not in excluded
    ]
    if len(counted) < max(needed, 1):
        have = f"{len(counted)} of {max(needed, 1)} approvals"
        raise ApprovalPending(
            f"promoting release {release.id} into {environment} is waiting for an approval "
            f"({have}; the deployer and the promoter cannot approve)",
            hint=f"shiprail approve {environment} {release.id} --reason '...' (another person),"
            " then run the promotion again",
        )
    return counted[-1]


def pending(ledger: Ledger, needed: dict[str, int]) -> list[Pending]:
    """Promotions asked for (awaiting approval) and not yet shipped nor rejected, per guarded
    environment (``needed``: environment -> approvals it needs), newest first. A handful of
    queries per environment, whatever the length of the history."""
    found: list[Pending] = []
    for environment, count in needed.items():
        asked = _awaiting(ledger, environment)
        ids = set(asked)
        with ledger.engine.connect() as connection:
            shipped = {
                row[0]
                for row in connection.execute(
                    sa.select(releases.c.source_release).where(
                        releases.c.environment == environment,
                        releases.c.source_release.in_(ids),
                        releases.c.live_at.is_not(None),
                    )
                )
            }
            refused = {
                row[0]
                for row in connection.execute(
                    sa.select(rejections.c.release_id).where(
                        rejections.c.environment == environment,
                        rejections.c.release_id.in_(ids),
                    )
                )
            }
            rows = connection.execute(releases.select().where(releases.c.id.in_(ids)))
            known = {row.id: release_from_row(row) for row in rows}
        given = _approvals_in(ledger, environment, ids - shipped - refused)
        for release_id, (actor, at) in asked.items():
            if release_id in shipped or release_id in refused or release_id not in known:
                continue
            found.append(
                Pending(environment, known[release_id], actor, at, max(count, 1),
                        tuple(given.get(release_id, ())))
            )  # fmt: skip
    return sorted(found, key=lambda p: p.requested_at, reverse=True)


def first_approvals(ledger: Ledger, environment: str, ids: set[str]) -> dict[str, Approval]:
    """The first approval of each of ``ids`` into ``environment`` (one query)."""
    return {key: given[0] for key, given in _approvals_in(ledger, environment, ids).items()}


def _awaiting(ledger: Ledger, environment: str) -> dict[str, tuple[str, datetime]]:
    """Release id -> (who asked, when) of the latest awaiting-approval attempts."""
    query = (
        sa.select(attempts.c.release_id, attempts.c.actor, attempts.c.started_at)
        .where(
            attempts.c.environment == environment,
            attempts.c.status == AttemptState.awaiting_approval,
        )
        .order_by(attempts.c.id.desc())
        .limit(PENDING_LOOKBACK)
    )
    asked: dict[str, tuple[str, datetime]] = {}
    with ledger.engine.connect() as connection:
        for row in connection.execute(query):
            asked.setdefault(row.release_id, (row.actor, _aware(row.started_at)))
    return asked


def _approvals_in(ledger: Ledger, environment: str, ids: set[str]) -> dict[str, list[Approval]]:
    query = (
        approvals.select()
        .where(approvals.c.environment == environment, approvals.c.release_id.in_(ids))
        .order_by(approvals.c.created_at, approvals.c.id)
    )
    given: dict[str, list[Approval]] = {}
    with ledger.engine.connect() as connection:
        for r in connection.execute(query):
            given.setdefault(r.release_id, []).append(
                Approval(r.environment, r.release_id, r.approver, r.reason, _aware(r.created_at))
            )
    return given


def _aware(value: datetime) -> datetime:
    result = aware(value)
    assert result is not None
    return result
