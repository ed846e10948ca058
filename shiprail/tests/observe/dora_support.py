"""Ledger histories with known answers, written through the real ``Ledger`` API in the order
and with the calls the deploy engine makes, at times a fake clock sets."""

from __future__ import annotations

import os
import uuid
from collections.abc import Collection, Iterator, Mapping
from datetime import UTC, datetime, timedelta

import pytest

from shiprail.deploy.incidents import Incidents
from shiprail.deploy.ledger import Ledger
from shiprail.deploy.records import attempts, incidents, releases
from shiprail.deploy.states import Action, AttemptState, ReleaseState

from conftest import unavailable

T0 = datetime(2025, 3, 1, tzinfo=UTC)


class Clock:
    """The time the ledger stamps: set by the history being written, never the wall clock."""

    def __init__(self, start: datetime = T0) -> None:
        self.start = self.now = start

    def __call__(self) -> datetime:
        return self.now

    def at(self, minutes: float) -> None:
        self.now = self.start + timedelta(minutes=minutes)


class Commits:
    """A fake git: the commit time of each sha a history used (minutes after T0)."""

    def __init__(self) -> None:
        self.times: dict[str, datetime] = {}

    def add(self, sha: str, minutes: float) -> None:
        self.times[sha] = T0 + timedelta(minutes=minutes)

    def __call__(self, shas: Collection[str]) -> Mapping[str, datetime]:
        return {sha: self.times[sha] for sha in shas if sha in self.times}


class HistoryWriter:
    """Deploys, rollbacks, failed watches, aborted canaries and incidents of one environment
    (a unique name, so histories on a shared PostgreSQL never mix)."""

    def __init__(self, ledger: Ledger, clock: Clock, env: str | None = None) -> None:
        self.ledger = ledger
        self.clock = clock
        self.env = env or f"dora-{uuid.uuid4().hex[:10]}"
        self.live: str | None = None
        self.incidents = Incidents(ledger, clock=clock)

    def _release(self, sha: str) -> tuple[str, int]:
        release = self.ledger.create_release(
            environment=self.env, image=f"workorders:{sha}", image_digest="sha256:" + "0" * 64,
            git_sha=sha, created_by="alice", colour="blue",
        )  # fmt: skip
        attempt = self.ledger.begin_attempt(
            environment=self.env, release_id=release.id, action=Action.deploy, actor="alice"
        )
        return release.id, attempt

    def deploy(self, at: float, sha: str, minutes: float = 2) -> str:
        self.clock.at(at)
        release, attempt = self._release(sha)
        self.clock.at(at + minutes)
        self.ledger.set_release_status(release, ReleaseState.live)
        if self.live is not None:
            self.ledger.set_release_status(self.live, ReleaseState.retired)
        self.ledger.finish_attempt(attempt, status=AttemptState.succeeded)
        self.live = release
        return release

    def failed_watch(self, at: float, sha: str, minutes: float = 3) -> str:
        """Served during its watch, failed it, and the previous release was put back."""
        self.clock.at(at)
        release, attempt = self._release(sha)
        self.clock.at(at + minutes)
        self.ledger.set_release_status(release, ReleaseState.failed)
        self.ledger.finish_attempt(attempt, status=AttemptState.failed, reason="error ratio")
        assert self.live is not None
        back = self.ledger.begin_attempt(
            environment=self.env, release_id=self.live, action=Action.rollback,
            actor="shiprail (automatic)",
        )  # fmt: skip
        self.clock.at(at + minutes + 0.5)
        self.ledger.finish_attempt(back, status=AttemptState.succeeded, cause="error ratio")
        return release

    def aborted_canary(self, at: float, sha: str, minutes: float) -> str:
        self.clock.at(at)
        release, attempt = self._release(sha)
        self.clock.at(at + minutes)
        self.ledger.set_release_status(release, ReleaseState.failed)
        self.ledger.finish_attempt(attempt, status=AttemptState.aborted, reason="p99 800ms")
        return release

    def failed_health(self, at: float, sha: str) -> str:
        """Never served: its replicas were not healthy, nothing was switched."""
        self.clock.at(at)
        release, attempt = self._release(sha)
        self.clock.at(at + 1)
        self.ledger.set_release_status(release, ReleaseState.failed)
        self.ledger.finish_attempt(attempt, status=AttemptState.failed, reason="not healthy")
        return release

    def rollback(self, at: float, to: str, minutes: float = 1) -> None:
        self.clock.at(at)
        attempt = self.ledger.begin_attempt(
            environment=self.env, release_id=to, action=Action.rollback, actor="bob"
        )
        self.clock.at(at + minutes)
        self.ledger.set_release_status(to, ReleaseState.live)
        if self.live is not None:
            self.ledger.set_release_status(self.live, ReleaseState.rolled_back)
        self.ledger.finish_attempt(attempt, status=AttemptState.succeeded, cause="manual")
        self.live = to

    def incident(self, at: float, resolved_after: float | None, release: str | None = None) -> None:
        self.clock.at(at)
        opened = self.incidents.open(self.env, "checkout fails", "carol", release)
        if resolved_after is not None:
            self.clock.at(at + resolved_after)
            self.incidents.resolve(self.env, "carol", opened.id)


@pytest.fixture
def fake_clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The ledger stamps rows with ``utcnow``; this makes it the test's clock."""
    clock = Clock()
    monkeypatch.setattr("shiprail.deploy.ledger.utcnow", clock)
    return clock


def postgres_ledger() -> Ledger:
    url = os.environ.get("SHIPRAIL_TEST_POSTGRES_URL")
    if not url:
        unavailable("no PostgreSQL: SHIPRAIL_TEST_POSTGRES_URL unset (scripts/services.sh start)")
    if url.startswith("postgresql://"):
        url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    return Ledger(url)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_ledger(request: pytest.FixtureRequest, tmp_path) -> Iterator[Ledger]:  # type: ignore[no-untyped-def]
    """The same history on SQLite and on PostgreSQL (unique environment names there)."""
    ledger = (
        Ledger(f"sqlite:///{tmp_path / 'state.db'}")
        if request.param == "sqlite"
        else postgres_ledger()
    )
    ledger.migrate()
    yield ledger
    ledger.engine.dispose()


@pytest.fixture
def writer(any_ledger: Ledger, fake_clock: Clock) -> Iterator[HistoryWriter]:
    """A history writer on each database; its rows are removed afterwards."""
    history = HistoryWriter(any_ledger, fake_clock)
    yield history
    with any_ledger.engine.begin() as connection:
        for table in (attempts, releases, incidents):
            connection.execute(table.delete().where(table.c.environment == history.env))
