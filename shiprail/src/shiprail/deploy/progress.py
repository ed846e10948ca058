"""Where a progressive rollout stands, in the ledger's ``rollouts`` table (one row per attempt).

The running canary writes its step, weight and phase at every interval; ``shiprail status``
reads them from any process. The other direction works the same way: ``shiprail abort`` and
``shiprail promote --skip-analysis`` record a request (who and why) on the row of the rollout
in progress, and the running canary reads it at its next interval. The ledger is the only
channel, so the request works from another terminal, host or CI job.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from shiprail.deploy.ledger import Ledger
from shiprail.deploy.records import aware, rollouts, utcnow
from shiprail.errors import UsageError


class Phase(StrEnum):
    """Where a rollout stands; the first three are "in progress"."""

    starting = "starting"
    progressing = "progressing"
    paused = "paused"
    promoted = "promoted"
    aborted = "aborted"
    failed = "failed"
    interrupted = "interrupted"


ACTIVE = (Phase.starting, Phase.progressing, Phase.paused)


class Request(StrEnum):
    """What a person asked of a running rollout."""

    abort = "abort"
    skip_analysis = "skip-analysis"


@dataclass(frozen=True)
class RolloutState:
    """One row of ``rollouts``: the canary's step (1-based; 0 before the first) and weight."""

    attempt_id: int
    environment: str
    release_id: str
    strategy: str
    phase: Phase
    step: int
    weight: int
    detail: str | None
    requested: Request | None
    requested_by: str | None
    request_reason: str | None
    updated_at: datetime

    @property
    def active(self) -> bool:
        return self.phase in ACTIVE

    def as_json(self) -> dict[str, Any]:
        data = self.__dict__.copy()
        data["updated_at"] = self.updated_at.isoformat()
        data["stable_weight"] = 100 - self.weight
        return data

    def line(self) -> str:
        text = (
            f"{self.strategy} {self.release_id} {self.phase} step {self.step} "
            f"canary {self.weight}% / stable {100 - self.weight}%"
        )
        if self.detail:
            text += f" ({self.detail})"
        if self.requested:
            text += f"; {self.requested} requested by {self.requested_by}"
        return text


def _state(row: Any) -> RolloutState:
    return RolloutState(
        attempt_id=row.attempt_id,
        environment=row.environment,
        release_id=row.release_id,
        strategy=row.strategy,
        phase=Phase(row.phase),
        step=row.step,
        weight=row.weight,
        detail=row.detail,
        requested=Request(row.requested) if row.requested else None,
        requested_by=row.requested_by,
        request_reason=row.request_reason,
        updated_at=aware(row.updated_at),  # type: ignore[arg-type]
    )


def start(
    ledger: Ledger, attempt_id: int, environment: str, release_id: str, strategy: str
) -> None:
    with ledger._tx() as tx:
        tx.execute(
            rollouts.insert().values(
                attempt_id=attempt_id,
                environment=environment,
                release_id=release_id,
                strategy=strategy,
                phase=Phase.starting,
                step=0,
                weight=0,
                updated_at=utcnow(),
            )
        )


def update(
    ledger: Ledger,
    attempt_id: int,
    *,
    phase: Phase,
    step: int | None = None,
    weight: int | None = None,
    detail: str | None = None,
) -> None:
    values: dict[str, Any] = {"phase": phase, "detail": detail, "updated_at": utcnow()}
    if step is not None:
        values["step"] = step
    if weight is not None:
        values["weight"] = weight
    with ledger._tx() as tx:
        tx.execute(rollouts.update().where(rollouts.c.attempt_id == attempt_id).values(**values))


def read(ledger: Ledger, attempt_id: int) -> RolloutState | None:
    with ledger._tx() as tx:
        row = tx.execute(rollouts.select().where(rollouts.c.attempt_id == attempt_id)).first()
    return _state(row) if row else None


def in_progress(ledger: Ledger, environment: str) -> RolloutState | None:
    """The environment's rollout in progress (the newest active row), if any."""
    query = (
        rollouts.select()
        .where(
            rollouts.c.environment == environment,
            rollouts.c.phase.in_([p.value for p in ACTIVE]),
        )
        .order_by(rollouts.c.attempt_id.desc())
        .limit(1)
    )
    with ledger._tx() as tx:
        row = tx.execute(query).first()
    return _state(row) if row else None


def request(
    ledger: Ledger, environment: str, what: Request, actor: str, reason: str
) -> RolloutState:
    """Record ``what`` on the rollout in progress; the rollout acts on it at its next interval.

    A request already recorded is not overwritten: the first person's wins (abort and
    promote cannot both happen), and the second is told so."""
    if not reason.strip():
        raise UsageError(f"say why with --reason: the ledger records who asked to {what}, and why")
    current = in_progress(ledger, environment)
    if current is None:
        raise UsageError(
            f"no canary rollout is in progress in {environment}",
            hint=f"shiprail status {environment} shows what runs there",
        )
    with ledger._tx() as tx:
        changed = tx.execute(
            rollouts.update()
            .where(rollouts.c.attempt_id == current.attempt_id, rollouts.c.requested.is_(None))
            .values(requested=what, requested_by=actor, request_reason=reason)
        )
    if changed.rowcount != 1:
        raise UsageError(
            f"{current.requested} was already requested for {current.release_id} "
            f"by {current.requested_by}: {current.request_reason}"
        )
    updated = read(ledger, current.attempt_id)
    assert updated is not None
    return updated


def close_interrupted(ledger: Ledger, attempt_ids: list[int]) -> None:
    """Mark the rollouts of attempts a killed process left open as ``interrupted``."""
    if not attempt_ids:
        return
    with ledger._tx() as tx:
        tx.execute(
            rollouts.update()
            .where(rollouts.c.attempt_id.in_(attempt_ids), rollouts.c.phase.in_(list(ACTIVE)))
            .values(phase=Phase.interrupted, updated_at=utcnow(), detail="the process ended")
        )
