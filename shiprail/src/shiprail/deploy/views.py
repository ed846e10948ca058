"""Read-only views of the ledger and the platform: what ``status``, ``history`` and ``prune``
return, as typed values.

The CLI, the JSON output and (later) the console all render these same values, so the
shape of ``--json`` is defined once, by ``as_json``, and the human line once, by ``line``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from shiprail.deploy import progress
from shiprail.deploy.ledger import Ledger
from shiprail.deploy.progress import RolloutState
from shiprail.deploy.records import Approval, Attempt, Release
from shiprail.deploy.routers.edge_bans import Ban
from shiprail.deploy.settings import EnvironmentConfig
from shiprail.deploy.states import Action
from shiprail.deploy.targets.interface import Target
from shiprail.errors import ShiprailError


@dataclass(frozen=True)
class Replicas:
    expected: int
    #: None when the target could not be asked (engine down, host unreachable).
    running: int | None


def trust_line(release: Release) -> str:
    """How the live release was admitted: verification, SBOM digest, dirty tree."""
    parts = [release.verification or "verification not recorded (deployed before it existed)"]
    if release.sbom_digest:
        parts.append(f"SBOM {release.sbom_digest[:19]}")
    if release.dirty:
        parts.append("built from a DIRTY tree")
    return "; ".join(parts)


@dataclass(frozen=True)
class EnvironmentStatus:
    """What runs in one environment, and who holds its lock."""

    environment: str
    url: str
    requires_approval: bool
    release: Release | None
    replicas: Replicas
    locked_by: str | None
    #: the canary in progress (step, weights, phase), read live from the ledger
    rollout: RolloutState | None = None
    #: addresses the edge refuses for repeated failed sign-ins (edge_bans)
    bans: tuple[Ban, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "url": self.url,
            "requires_approval": self.requires_approval,
            "release": self.release.as_json() if self.release else None,
            "replicas": {"expected": self.replicas.expected, "running": self.replicas.running},
            "locked_by": self.locked_by,
            "rollout": self.rollout.as_json() if self.rollout else None,
            "edge_bans": [
                {"address": b.address, "refused": b.refused, "last": b.last} for b in self.bans
            ],
        }

    def line(self) -> str:
        rel = self.release
        what = (
            f"{rel.id} {rel.image} ({rel.image_digest[:19]}, {rel.colour}, since "
            f"{rel.live_at.isoformat()[:19] if rel.live_at else ''})"
            if rel
            else "nothing deployed"
        )
        running = self.replicas.running
        reps = f"{running if running is not None else '?'}/{self.replicas.expected}"
        text = f"{self.environment:<8} {what}  replicas {reps}  {self.url}"
        if rel is not None:
            text += f"\n{'':<8} {trust_line(rel)}"
        if self.rollout is not None:
            text += f"\n{'':<8} {self.rollout.line()}"
        for ban in self.bans:
            text += (
                f"\n{'':<8} edge ban: {ban.address} refused {ban.refused}x after failed "
                f"sign-ins (last {ban.last[:19]})"
            )
        return text


@dataclass(frozen=True)
class HistoryEntry:
    """One attempt on an environment, with the release it shipped and its approval."""

    attempt: Attempt
    release: Release | None
    approval: Approval | None

    def as_json(self) -> dict[str, Any]:
        row = self.attempt.as_json()
        if self.release is not None:
            row["image"] = self.release.image
            row["image_digest"] = self.release.image_digest
            row["git_sha"] = self.release.git_sha
            row["release_status"] = self.release.status
            row["sbom_digest"] = self.release.sbom_digest
            row["dirty"] = self.release.dirty
            row["verification"] = self.release.verification
        if self.approval is not None:
            row["approval"] = {
                "approver": self.approval.approver,
                "reason": self.approval.reason,
                "at": self.approval.created_at.isoformat(),
            }
        return row

    def line(self) -> str:
        a = self.attempt
        text = (
            f"{a.started_at.isoformat()[:19]}  {a.action:<8} {a.release_id:<22} "
            f"{a.status:<17} by {a.actor}"
        )
        if a.reason or a.cause:
            text += f"  ({a.reason or a.cause})"
        if self.release is not None and self.release.dirty:
            text += "  [dirty tree]"
        return text


@dataclass(frozen=True)
class Pruned:
    """What ``prune`` removed."""

    containers: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, list[str]]:
        return {"containers": self.containers, "images": self.images}


def environment_status(
    name: str,
    cfg: EnvironmentConfig,
    ledger: Ledger,
    target: Callable[[], Target],
    bans: Callable[[], list[Ban]] | None = None,
) -> EnvironmentStatus:
    """The live release of ``name``, how many of its replicas run right now (``None``
    when the target cannot be reached: status must work while the engine is down), and
    the addresses its edge refuses."""
    refused: list[Ban] = []
    if bans is not None:
        with contextlib.suppress(ShiprailError):
            refused = bans()
    live = ledger.live_release(name)
    running = None
    expected = cfg.replicas
    if live is not None:
        try:
            replicas = target().instances(name, live.id)
        except ShiprailError:
            replicas = None
        if replicas is not None:
            running = sum(1 for i in replicas if i.running)
            if cfg.kubernetes is not None:  # the values files (or the HPA) size a cluster's
                expected = len(replicas)
    lock = ledger.lock_info(name)
    port = "" if cfg.edge.port == 443 else f":{cfg.edge.port}"
    url = f"https://{cfg.edge.hostname}{port}/"
    if cfg.kubernetes is not None:
        url = f"kubernetes://{cfg.kubernetes.namespace}/"
    return EnvironmentStatus(
        environment=name,
        url=url,
        requires_approval=cfg.requires_approval,
        release=live,
        replicas=Replicas(expected=expected, running=running),
        locked_by=lock.holder if lock else None,
        rollout=progress.in_progress(ledger, name),
        bans=tuple(refused),
    )


def history(ledger: Ledger, environment: str, limit: int) -> list[HistoryEntry]:
    """Attempts newest first; a promotion carries the approval of the release it promoted."""
    entries = []
    for attempt in ledger.attempts(environment, limit=limit):
        release = ledger.release(attempt.release_id)
        approval = None
        if attempt.action == Action.promote:
            approved_id = (release.source_release if release else None) or attempt.release_id
            approval = ledger.approval(environment, approved_id)
        entries.append(HistoryEntry(attempt, release, approval))
    return entries
