"""Where a rollout stands, in the ledger's ``rollouts`` table (one row per attempt).

The running canary writes its step, weight and phase at every interval; a blue/green rollout
writes each of its stages (:data:`STAGES`: start, healthy, smoke with each check's result,
switch, watch with the window's figures, drain) through a :class:`Tracker`. ``shiprail
status`` and the console read them from any process, so a reviewer can follow a deploy
without the terminal that runs it. The other direction works the same way: ``shiprail abort`` and
``shiprail promote --skip-analysis`` record a request (who and why) on the row of the rollout
in progress, and the running canary reads it at its next interval. The ledger is the only
channel, so the request works from another terminal, host or CI job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from shiprail.deploy.analysis.interface import Verdict
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
#: The ``strategy`` of a blue/green row; its ``step`` is the 1-based index in :data:`STAGES`
#: and its ``weight`` the share of traffic on the new release (0 before the switch, then 100).
BLUE_GREEN = "blue-green"
STAGES = ("start", "healthy", "smoke", "switch", "watch", "drain")


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

    @property
    def stage(self) -> str | None:
        """The blue/green stage (None for a canary, or before the first stage)."""
        if self.strategy != BLUE_GREEN or not 1 <= self.step <= len(STAGES):
            return None
        return STAGES[self.step - 1]

    @property
    def detail_lines(self) -> list[str]:
        """The detail one line each (a smoke stage lists one line per check)."""
        return (self.detail or "").splitlines()

    def as_json(self) -> dict[str, Any]:
        data = self.__dict__.copy()
        data["updated_at"] = self.updated_at.isoformat()
        data["stable_weight"] = 100 - self.weight
        data["stage"] = self.stage
        return data

    def line(self) -> str:
        if self.strategy == BLUE_GREEN:
            text = f"{self.strategy} {self.release_id} {self.phase}"
            if self.stage:
                text += f" at {self.stage} ({self.step}/{len(STAGES)})"
            lines = self.detail_lines
            return text + (f": {lines[-1]}" if lines else "")
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
    if current is None or current.strategy == BLUE_GREEN:
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


def of_release(ledger: Ledger, release_id: str) -> RolloutState | None:
    """The newest rollout of ``release_id`` (its release page follows it)."""
    query = (
        rollouts.select()
        .where(rollouts.c.release_id == release_id)
        .order_by(rollouts.c.attempt_id.desc())
        .limit(1)
    )
    with ledger._tx() as tx:
        row = tx.execute(query).first()
    return _state(row) if row else None


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


@dataclass
class Tracker:
    """Writes a blue/green rollout's stages on its ``rollouts`` row (created at the first
    stage). Without a ledger it records nothing: strategies driven by tests without one."""

    ledger: Ledger | None = None
    attempt_id: int = 0
    environment: str = ""
    release_id: str = ""
    weight: int = 0
    lines: list[str] = field(default_factory=list)
    _step: int = 0

    def stage(self, name: str, detail: str | None = None, *, weight: int | None = None) -> None:
        """Enter stage ``name`` (one of :data:`STAGES`); ``weight``: traffic on the new release."""
        if self.ledger is None:
            return
        if self._step == 0:
            start(self.ledger, self.attempt_id, self.environment, self.release_id, BLUE_GREEN)
        self._step = STAGES.index(name) + 1
        self.weight = self.weight if weight is None else weight
        self.lines = [detail] if detail else []
        self._write(Phase.progressing)

    def note(self, line: str) -> None:
        """Add a line to the current stage (one smoke check's result)."""
        self.lines.append(line)
        self._write(Phase.progressing)

    def figures(self, line: str) -> None:
        """Replace the current stage's line (the watch window's latest figures)."""
        self.lines = [line]
        self._write(Phase.progressing)

    def finish(self, phase: Phase, detail: str) -> None:
        """The outcome: ``promoted`` (the new release serves) or ``failed`` (rolled back)."""
        if self._step == 0:
            return  # nothing was recorded, nothing to close
        self.lines = [detail]
        self._write(phase)

    def _write(self, phase: Phase) -> None:
        if self.ledger is None or self._step == 0:
            return
        detail = "\n".join(self.lines) or None
        update(self.ledger, self.attempt_id, phase=phase, step=self._step, weight=self.weight,
               detail=detail)  # fmt: skip


def watch_figures(elapsed: float, window: float, verdict: Verdict) -> str:
    """The watch window's progress and what it saw, as the status line and console show it."""
    ratio = "n/a" if verdict.error_ratio is None else f"{verdict.error_ratio:.2%}"
    p95 = "n/a" if verdict.p95_seconds is None else f"{verdict.p95_seconds * 1000:.0f} ms"
    return (
        f"{min(elapsed, window):.0f}s of {window:.0f}s watched, "
        f"{max(window - elapsed, 0):.0f}s left: error ratio {ratio}, p95 {p95}, "
        f"{verdict.requests:.0f} request(s)"
    )


def reason_of(exc: BaseException | None) -> str:
    """What a failed rollout's row says happened (no traceback, no local values)."""
    if exc is None:
        return "rolled back"
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted"
    message = getattr(exc, "message", None)
    return message if isinstance(message, str) else type(exc).__name__
