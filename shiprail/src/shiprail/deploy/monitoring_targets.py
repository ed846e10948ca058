"""The Prometheus file_sd targets file deploy writes for each environment at every switch.

``<file_sd_dir>/<env>.json`` lists the live release's replicas with the labels dashboards
and alerts group by; Prometheus (``file_sd_configs``) re-reads it without a restart. The
directory defaults to ``<state dir>/monitoring/targets`` and is ``monitoring.file_sd_dir`` in
shiprail.yaml when that section sets it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from shiprail.deploy.routers.traefik import write_atomic
from shiprail.deploy.settings import state_dir

SERVICE = "workorders"


def file_sd_dir(config: Any = None) -> Path:
    monitoring = getattr(config, "monitoring", None)
    configured = getattr(monitoring, "file_sd_dir", None)
    if configured:
        return Path(configured)
    return state_dir() / "monitoring" / "targets"


def write_targets(
    directory: Path,
    *,
    environment: str,
    release_id: str,
    colour: str,
    addresses: Sequence[str],
    service: str = SERVICE,
) -> Path:
    document = [
        {
            "targets": list(addresses),
            "labels": {
                "environment": environment,
                "release": release_id,
                "colour": colour,
                "service": service,
            },
        }
    ]
    path = directory / f"{environment}.json"
    write_atomic(path, json.dumps(document, indent=2) + "\n")
    return path
