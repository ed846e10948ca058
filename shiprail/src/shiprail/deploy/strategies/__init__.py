"""How a new release replaces the live one: one module per strategy (``blue_green``,
``canary``), the steps they share in ``common``, and :func:`build_rollout`, which picks the
strategy an environment asks for (``strategy:`` in shiprail.yaml)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from shiprail.deploy import progress
from shiprail.deploy.ledger import Ledger
from shiprail.deploy.monitoring_targets import TargetGroup, write_target_groups
from shiprail.deploy.platform import Platform
from shiprail.deploy.routers.interface import Router
from shiprail.deploy.settings import EnvironmentConfig
from shiprail.deploy.strategies.blue_green import Rollout
from shiprail.deploy.strategies.canary import CanaryAborted, CanaryRollout
from shiprail.deploy.strategies.common import (
    COLOURS,
    STOP_GRACE_SECONDS,
    RolloutBase,
    other_colour,
    route_for,
    run_smoke,
)
from shiprail.deploy.strategies.helm import HelmRollout
from shiprail.deploy.targets.interface import Instance, ReleaseSpec, Target
from shiprail.errors import ConfigError

__all__ = [
    "COLOURS",
    "STOP_GRACE_SECONDS",
    "CanaryAborted",
    "CanaryRollout",
    "Rollout",
    "RolloutBase",
    "build_rollout",
    "other_colour",
    "route_for",
    "run_smoke",
]


def _split_targets(
    file_sd_dir: Path,
    environment: str,
    service: str,
    stable: list[Instance],
    canary: list[Instance],
) -> None:
    """file_sd while traffic is split: both releases, each under its own ``release`` label."""
    groups = [
        TargetGroup(side[0].release_id, side[0].colour, [i.address for i in side if i.url])
        for side in (stable, canary)
        if side
    ]
    write_target_groups(file_sd_dir, environment=environment, groups=groups, service=service)


def build_rollout(
    *,
    environment: str,
    config: EnvironmentConfig,
    platform: Platform,
    target: Target,
    router: Router,
    spec: ReleaseSpec,
    previous: list[Instance],
    on_switch: Callable[[list[Instance]], None],
    ledger: Ledger,
    attempt_id: int,
    file_sd_dir: Path,
    say: Callable[[str], None],
    sleep: Callable[[float], None],
    clock: Callable[[], float],
    smoke_client: httpx.Client | None,
) -> RolloutBase:
    """The rollout ``config.strategy`` asks for. A canary needs a stable release to split
    traffic with: the first release of an environment goes live blue/green (and says so)."""
    common: dict[str, Any] = {
        "environment": environment,
        "config": config,
        "target": target,
        "router": router,
        "spec": spec,
        "previous": previous,
        "on_switch": on_switch,
        "say": say,
        "sleep": sleep,
        "clock": clock,
        "smoke_client": smoke_client,
    }
    tracker = progress.Tracker(ledger, attempt_id, environment, spec.release_id)
    if config.kubernetes is not None:
        return HelmRollout(analysis=platform.analysis(), tracker=tracker, **common)
    if config.strategy != "canary":
        return Rollout(analysis=platform.analysis(), tracker=tracker, **common)
    if not previous:
        say("canary: no live release to compare with, this first release goes live blue/green")
        return Rollout(analysis=platform.analysis(), tracker=tracker, **common)
    if platform.metrics is None:
        raise ConfigError("strategy: canary needs a metric source on this platform")
    progress.start(ledger, attempt_id, environment, spec.release_id, "canary")
    edge = platform.edge_client
    return CanaryRollout(
        metrics=platform.metrics(),
        ledger=ledger,
        attempt_id=attempt_id,
        on_split=functools.partial(_split_targets, file_sd_dir, environment, spec.service),
        edge_client=functools.partial(edge, environment, config) if edge else None,
        announce=platform.announce,
        **common,
    )
