"""Incidents: a failure a person declares (``shiprail incident open``) and later resolves.

Not every failure of a release ends in a rollback or an aborted canary: a bug found an hour
later is fixed forward, and only a person knows it happened. An incident records it in the
ledger (``incidents`` table) against the release it blames, so the change failure rate and
the time to restore (:mod:`shiprail.observe.dora`) count it. Every statement runs in the
ledger's own transactions (``Ledger._tx``), so database errors become :class:`ToolCrashed`
at the same boundary as the rest of the ledger's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from shiprail.deploy.ledger import Ledger
from shiprail.deploy.records import aware, incidents, utcnow
from shiprail.errors import UsageError


@dataclass(frozen=True)
class Incident:
    id: int
    environment: str
    release_id: str | None
    summary: str
    opened_by: str
    opened_at: datetime
    resolved_by: str | None = None
    resolved_at: datetime | None = None

    @property
    def open(self) -> bool:
        return self.resolved_at is None

    def as_json(self) -> dict[str, Any]:
        data = self.__dict__.copy()
        for key in ("opened_at", "resolved_at"):
            data[key] = data[key].isoformat() if data[key] else None
        return data

    def line(self) -> str:
        state = (
            f"resolved {self.resolved_at.isoformat()[:19]} by {self.resolved_by}"
            if self.resolved_at
            else "open"
        )
        blamed = self.release_id or "no release named"
        return (
            f"#{self.id} {self.environment:<8} {self.opened_at.isoformat()[:19]} by "
            f"{self.opened_by} ({blamed}): {self.summary}  [{state}]"
        )


def _incident(row: Any) -> Incident:
    return Incident(
        id=row.id,
        environment=row.environment,
        release_id=row.release_id,
        summary=row.summary,
        opened_by=row.opened_by,
        opened_at=aware(row.opened_at),  # type: ignore[arg-type]
        resolved_by=row.resolved_by,
        resolved_at=aware(row.resolved_at),
    )


class Incidents:
    """Open, resolve and list incidents in the ledger. ``clock`` is the time they record."""

    def __init__(self, ledger: Ledger, clock: Callable[[], datetime] = utcnow) -> None:
        self.ledger = ledger
        self.clock = clock

    def open(
        self, environment: str, summary: str, actor: str, release_id: str | None = None
    ) -> Incident:
        """Record a failure; without ``release_id`` the release live now is blamed."""
        if not summary.strip():
            raise UsageError("an incident needs a summary", hint="--summary 'what users see'")
        if release_id is not None:
            release = self.ledger.release(release_id)
            if release is None or release.environment != environment:
                raise UsageError(
                    f"release '{release_id}' was never deployed to {environment}",
                    hint=f"shiprail history {environment} lists its releases",
                )
        else:
            live = self.ledger.live_release(environment)
            release_id = live.id if live else None
        values = {
            "environment": environment,
            "release_id": release_id,
            "summary": summary.strip(),
            "opened_by": actor,
            "opened_at": self.clock(),
        }
        with self.ledger._tx() as tx:
            key = tx.execute(incidents.insert().values(**values)).inserted_primary_key
        assert key is not None
        return Incident(id=int(key[0]), **values)  # type: ignore[arg-type]

    def resolve(self, environment: str, actor: str, incident_id: int | None = None) -> Incident:
        """Resolve the named incident, or the environment's only open one."""
        query = incidents.select().where(incidents.c.environment == environment)
        if incident_id is not None:
            query = query.where(incidents.c.id == incident_id)
        else:
            query = query.where(incidents.c.resolved_at.is_(None))
        with self.ledger._tx() as tx:
            rows = tx.execute(query.order_by(incidents.c.id)).all()
            if not rows:
                what = f"incident #{incident_id}" if incident_id is not None else "open incident"
                raise UsageError(f"no {what} in {environment}", hint="shiprail incident list")
            if len(rows) > 1:
                ids = ", ".join(f"#{row.id}" for row in rows)
                raise UsageError(
                    f"{environment} has {len(rows)} open incidents ({ids})",
                    hint=f"name the one resolved: shiprail incident resolve {environment} ID",
                )
            row = rows[0]
            if row.resolved_at is not None:
                raise UsageError(f"incident #{row.id} was already resolved")
            now = self.clock()
            tx.execute(
                incidents.update()
                .where(incidents.c.id == row.id)
                .values(resolved_by=actor, resolved_at=now)
            )
        return replace(_incident(row), resolved_by=actor, resolved_at=now)

    def list(self, environment: str | None = None) -> list[Incident]:
        """Newest first."""
        query = sa.select(incidents)
        if environment is not None:
            query = query.where(incidents.c.environment == environment)
        with self.ledger._tx() as tx:
            rows = tx.execute(query.order_by(incidents.c.id.desc()))
            return [_incident(row) for row in rows]
