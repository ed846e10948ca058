"""How a rollout that did not finish is written down: the release failed, the attempt failed
(or aborted, for a canary its analysis or a person stopped), and the automatic rollback a
failed watch performed. Kept beside the engine so every path records failures the same way.
"""

from __future__ import annotations

from shiprail.deploy.ledger import Ledger
from shiprail.deploy.records import Release
from shiprail.deploy.states import Action, AttemptState, ReleaseState
from shiprail.deploy.strategies import CanaryAborted
from shiprail.errors import DeployFailed, ShiprailError, WatchFailed


def record_failure(
    ledger: Ledger,
    *,
    holder: str,
    release: Release,
    attempt: int,
    live: Release | None,
    exc: BaseException,
    timings: dict[str, float],
) -> None:
    """Record a failed rollout (and the automatic rollback a failed watch did), then raise
    DeployFailed naming what still serves. Returns only for errors outside the tree (bugs),
    which the caller re-raises with their traceback."""
    reason = exc.message if isinstance(exc, ShiprailError) else repr(exc)
    ledger.set_release_status(release.id, ReleaseState.failed)
    status = AttemptState.aborted if isinstance(exc, CanaryAborted) else AttemptState.failed
    ledger.finish_attempt(attempt, status=status, reason=reason, timings=timings)
    if isinstance(exc, WatchFailed) and live is not None:
        rollback = ledger.begin_attempt(
            environment=release.environment,
            release_id=live.id,
            action=Action.rollback,
            actor="shiprail (automatic)",
            holder=holder,
        )
        ledger.finish_attempt(rollback, status=AttemptState.succeeded, cause=reason)
    if not isinstance(exc, ShiprailError | KeyboardInterrupt):
        return
    kept = f"{live.id} is still serving" if live else "no previous release to serve"
    raise DeployFailed(
        f"release {release.id} failed in {release.environment}: {reason}; {kept}"
    ) from None
