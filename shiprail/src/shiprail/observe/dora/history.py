"""The ledger read for DORA: deployments, failures and restorations of one environment.

Three set-based queries (the attempts of the period with their release's commit, the last
release that went live before it, the incidents of the period) and one walk over the
attempts in the order they happened. The walk knows which release serves at each moment, and
how it got there, which is what tells a change failure from a correction:

- a deploy or promotion that succeeded is a deployment; its release went live;
- a failed deploy directly followed by a rollback to the release still serving is a watch
  that failed and rolled back automatically: a deployment (it served) and a failure;
- an ``aborted`` deploy is a canary stopped by its analysis or by a person: a deployment
  (it served a share of the traffic) and a failure;
- a manual rollback blames the release it replaces, but only when that release went live by
  a deployment: rolling back a rollback undoes a correction, it is not a new failure;
- an incident blames the release it names.

A release fails at most once: its earliest failure counts, whatever else is recorded later.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, NamedTuple

import sqlalchemy as sa

from shiprail.deploy.ledger import Ledger
from shiprail.deploy.records import attempts, aware, incidents, releases
from shiprail.deploy.states import Action, AttemptState

DEPLOYING = (Action.deploy.value, Action.promote.value)
#: Outcomes that changed (or tried to change) what serves; intents, interruptions and
#: promotions waiting for an approval changed nothing.
OUTCOMES = (AttemptState.succeeded.value, AttemptState.failed.value, AttemptState.aborted.value)


class FailureKind(StrEnum):
    automatic_rollback = "automatic-rollback"
    rollback = "rollback"
    aborted_canary = "aborted-canary"
    incident = "incident"


@dataclass(frozen=True, slots=True)
class Deployment:
    release_id: str
    git_sha: str
    #: when the release went live; None for one that served and failed (watch, canary)
    live_at: datetime | None


@dataclass
class Failure:
    kind: FailureKind
    release_id: str | None
    started_at: datetime
    restored_at: datetime | None = None


@dataclass(frozen=True)
class History:
    deployments: list[Deployment]
    #: one per failed release (its earliest failure), then incidents that name no release
    failures: list[Failure]


class _Row(NamedTuple):
    """One attempt as the query returns it (times as the database gives them: SQLite's are
    naive UTC, made aware only where a figure keeps them)."""

    action: str
    status: str
    release_id: str
    git_sha: str | None
    started_at: datetime
    finished_at: datetime


class _Walk:
    """What serves, and how it got there, attempt after attempt."""

    def __init__(self, live: str | None, live_by_deploy: bool) -> None:
        self.live = live
        self.live_by_deploy = live_by_deploy
        self.previous: _Row | None = None
        self.deployments: list[Deployment] = []
        self.failed: dict[str, Failure] = {}
        self.loose: list[Failure] = []
        self.unrestored: list[Failure] = []

    def step(self, row: _Row) -> None:
        if row.action in DEPLOYING:
            self._deploying(row)
        else:
            self._rollback(row)
        self.previous = row

    def _deploying(self, row: _Row) -> None:
        if row.status == AttemptState.succeeded:
            self.deployments.append(
                Deployment(row.release_id, row.git_sha or "", aware(row.finished_at))
            )
            self._went_live(row, by_deploy=True)
        elif row.status == AttemptState.aborted:
            self.deployments.append(Deployment(row.release_id, row.git_sha or "", None))
            self.fail(FailureKind.aborted_canary, row.release_id, row.started_at, row.finished_at)

    def _rollback(self, row: _Row) -> None:
        before = self.previous
        restored = row.finished_at if row.status == AttemptState.succeeded else None
        if (
            before is not None
            and before.action in DEPLOYING
            and before.status == AttemptState.failed
            and row.release_id == self.live
        ):
            self.deployments.append(Deployment(before.release_id, before.git_sha or "", None))
            self.fail(
                FailureKind.automatic_rollback, before.release_id, before.finished_at, restored
            )
        elif self.live is not None and self.live_by_deploy and row.release_id != self.live:
            self.fail(FailureKind.rollback, self.live, row.started_at, restored)
        if row.status == AttemptState.succeeded:
            self._went_live(row, by_deploy=False)

    def _went_live(self, row: _Row, *, by_deploy: bool) -> None:
        """A release serves again: every failure still waiting is restored now."""
        for failure in self.unrestored:
            failure.restored_at = aware(row.finished_at)
        self.unrestored.clear()
        self.live, self.live_by_deploy = row.release_id, by_deploy

    def fail(
        self,
        kind: FailureKind,
        release_id: str | None,
        started_at: datetime,
        restored_at: datetime | None,
        *,
        waits_for_release: bool = True,
    ) -> None:
        failure = Failure(kind, release_id, aware(started_at), aware(restored_at))  # type: ignore[arg-type]
        if restored_at is None and waits_for_release:
            self.unrestored.append(failure)
        if release_id is None:
            self.loose.append(failure)
            return
        known = self.failed.get(release_id)
        if known is None or failure.started_at < known.started_at:
            self.failed[release_id] = failure

    def history(self) -> History:
        return History(self.deployments, [*self.failed.values(), *self.loose])


def _attempt_rows(ledger: Ledger, environment: str, since: datetime) -> list[_Row]:
    query = (
        sa.select(
            attempts.c.action,
            attempts.c.status,
            attempts.c.release_id,
            releases.c.git_sha,
            attempts.c.started_at,
            attempts.c.finished_at,
        )
        .select_from(attempts.outerjoin(releases, releases.c.id == attempts.c.release_id))
        .where(
            attempts.c.environment == environment,
            attempts.c.started_at >= since,
            attempts.c.status.in_(OUTCOMES),
            attempts.c.finished_at.is_not(None),
        )
        .order_by(attempts.c.id)
    )
    with ledger._tx() as tx:
        return [_Row._make(row) for row in tx.execute(query)]


def _live_before(ledger: Ledger, environment: str, since: datetime) -> tuple[str | None, bool]:
    """The release serving when the period starts, and whether a deployment put it there."""
    query = (
        sa.select(attempts.c.release_id, attempts.c.action)
        .where(
            attempts.c.environment == environment,
            attempts.c.started_at < since,
            attempts.c.status == AttemptState.succeeded.value,
        )
        .order_by(attempts.c.id.desc())
        .limit(1)
    )
    with ledger._tx() as tx:
        row = tx.execute(query).first()
    return (row.release_id, row.action in DEPLOYING) if row else (None, False)


def _incident_rows(ledger: Ledger, environment: str, since: datetime) -> Sequence[Any]:
    query = (
        sa.select(incidents.c.release_id, incidents.c.opened_at, incidents.c.resolved_at)
        .where(incidents.c.environment == environment, incidents.c.opened_at >= since)
        .order_by(incidents.c.id)
    )
    with ledger._tx() as tx:
        return tx.execute(query).all()


def read_history(ledger: Ledger, environment: str, since: datetime) -> History:
    """Deployments and failures of ``environment`` from ``since`` on (see the module doc)."""
    walk = _Walk(*_live_before(ledger, environment, since))
    for row in _attempt_rows(ledger, environment, since):
        walk.step(row)
    for incident in _incident_rows(ledger, environment, since):
        walk.fail(
            FailureKind.incident,
            incident.release_id,
            incident.opened_at,
            incident.resolved_at,
            waits_for_release=False,
        )
    return walk.history()
