"""Which releases are kept, and pruning the rest (containers, then images nobody needs).

A rollback needs the previous releases' containers (or at least their images), so what is
kept is decided from the ledger in one place: the live release plus the last
``keep_releases`` releases that were live, per environment.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta

from shiprail.deploy.checkpoints import Step, checkpoint
from shiprail.deploy.ledger import Ledger
from shiprail.deploy.records import Release
from shiprail.deploy.settings import EnvironmentConfig
from shiprail.deploy.states import RETAINED, ReleaseState
from shiprail.deploy.targets.interface import Target
from shiprail.deploy.views import Pruned
from shiprail.errors import UsageError

_DURATION = re.compile(r"^(\d+)([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    """``7d``, ``12h``, ``30m``, ``2w`` or ``90s``."""
    match = _DURATION.match(text.strip())
    if not match:
        raise UsageError(f"'{text}' is not a duration", hint="use a number and s/m/h/d/w, e.g. 7d")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def kept_releases(ledger: Ledger, environment: str, keep_releases: int) -> set[str]:
    """Ids of the live release and of the last ``keep_releases`` earlier ones."""
    releases = ledger.releases(environment)
    keep = {r.id for r in releases if r.status == ReleaseState.live}
    earlier = [r for r in releases if r.status in RETAINED]
    earlier.sort(key=lambda r: r.live_at or r.created_at, reverse=True)
    keep.update(r.id for r in earlier[:keep_releases])
    return keep


def prune(
    environments: Mapping[str, EnvironmentConfig],
    ledger: Ledger,
    targets: Mapping[str, Target],
    cutoff: datetime,
) -> Pruned:
    """Remove containers of releases created before ``cutoff`` that are not kept, then the
    images no kept release or running container of any environment still uses."""
    removed_containers: list[str] = []
    candidates: dict[str, Target] = {}
    needed_images: set[str] = set()
    for name, cfg in environments.items():
        target = targets[name]
        keep = kept_releases(ledger, name, cfg.keep_releases)
        for release in ledger.releases(name):
            if release.id in keep or release.status == ReleaseState.pending:
                needed_images.add(release.image)
                continue
            if release.created_at > cutoff:
                needed_images.add(release.image)
                continue
            doomed = target.instances(name, release.id)
            if doomed:
                target.remove(doomed)
                removed_containers.extend(i.name for i in doomed)
            candidates[release.image] = target
        for instance in target.instances(name):
            needed_images.add(instance.image)
        checkpoint(Step.RETENTION_PRUNED, name)
    removed_images = [
        image
        for image, target in sorted(candidates.items())
        if image not in needed_images and target.remove_image(image)
    ]
    return Pruned(containers=removed_containers, images=removed_images)


def rollback_choice(
    ledger: Ledger, environment: str, live: Release | None, to: str | None
) -> Release:
    """The release a rollback brings back: ``to``, or the last retained one that served."""
    if to is not None:
        chosen = ledger.release(to)
        if chosen is None or chosen.environment != environment:
            raise UsageError(f"release '{to}' was never deployed to {environment}")
        if chosen.live_at is None:
            raise UsageError(f"release '{to}' never served {environment}; cannot roll back to it")
        if live is not None and chosen.id == live.id:
            raise UsageError(f"release '{to}' is already live in {environment}")
        return chosen
    candidates = [
        r for r in ledger.releases(environment) if r.status in RETAINED and r.live_at is not None
    ]
    candidates.sort(key=lambda r: r.live_at or r.created_at, reverse=True)
    if not candidates:
        raise UsageError(f"no earlier release of {environment} to roll back to")
    return candidates[0]
