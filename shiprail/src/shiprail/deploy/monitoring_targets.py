"""The Prometheus file_sd targets file deploy writes for each environment at every switch.

``<file_sd_dir>/<service>-<env>.json`` lists the live release's replicas with the labels dashboards
and alerts group by (during a canary, the stable and the canary replicas as two groups);
Prometheus (``file_sd_configs``) re-reads it without a restart. The
directory defaults to ``<state dir>/monitoring/targets`` and is ``monitoring.targets_dir`` in
shiprail.yaml when that section sets it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shiprail.deploy.routers.traefik import write_atomic
from shiprail.deploy.settings import state_dir
from shiprail.naming import Scope


def file_sd_dir(config: Any = None) -> Path:
    """``monitoring.targets_dir`` (or ``file_sd_dir``) from shiprail.yaml, relative to the
    repository; else ``<state dir>/monitoring/targets``."""
    from shiprail.paths import repo_root

    monitoring = getattr(config, "monitoring", None)
    for key in ("file_sd_dir", "targets_dir"):
        configured = getattr(monitoring, key, None)
        if configured:
            path = Path(configured)
            return path if path.is_absolute() else repo_root() / path
    return state_dir() / "monitoring" / "targets"


@dataclass(frozen=True)
class TargetGroup:
    """The replicas of one release, labelled with that release."""

    release_id: str
    colour: str
    addresses: Sequence[str]


def write_targets(
    directory: Path,
    *,
    environment: str,
    release_id: str,
    colour: str,
    addresses: Sequence[str],
    service: str,
) -> Path:
    """The targets of the one release that serves the environment."""
    group = TargetGroup(release_id, colour, addresses)
    return write_target_groups(directory, environment=environment, groups=[group], service=service)


def write_target_groups(
    directory: Path, *, environment: str, groups: Sequence[TargetGroup], service: str
) -> Path:
    """The targets of every release that takes traffic: during a canary, the stable and the
    canary replicas, each group with its own ``release`` label so each is judged alone."""
    document = [
        {
            "targets": list(group.addresses),
            "labels": {
                "environment": environment,
                "release": group.release_id,
                "colour": group.colour,
                "service": service,
            },
        }
        for group in groups
    ]
    path = directory / Scope(service, environment).targets_file
    write_atomic(path, json.dumps(document, indent=2) + "\n")
    return path
