"""A rollback's switch: bring back a retained release (its stopped containers, or its image
started again), prove it, move the edge to it, then drain and stop the release it replaces.

Kept beside the strategies because it is the same start → prove → switch → drain sequence,
run on containers that already exist; a failure before the old release is stopped puts it
back in front and stops what was brought back.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from shiprail.deploy.checkpoints import Step, checkpoint
from shiprail.deploy.records import Release
from shiprail.deploy.settings import EnvironmentConfig
from shiprail.deploy.strategies.common import STOP_GRACE_SECONDS, route_for, run_smoke
from shiprail.deploy.targets.interface import Target

if TYPE_CHECKING:
    from shiprail.deploy.engine import Engine


def switch_to_retained(
    engine: Engine,
    environment: str,
    cfg: EnvironmentConfig,
    target: Target,
    chosen: Release,
    live: Release | None,
    timings: dict[str, float],
) -> None:
    """Put ``chosen`` in front of ``environment`` in place of ``live``; ``timings`` gets the
    start, healthy and switch durations."""
    current = engine._running(target, environment, live)
    t = engine.clock()
    instances = target.resume(environment, chosen.id)
    if instances:
        engine.say(f"restarting the retained containers of {chosen.id}")
    else:
        engine.say(f"no retained containers for {chosen.id}: starting {chosen.image} again")
        spec = engine._release_spec(environment, cfg, chosen, engine._secrets(environment, cfg))
        # The database is already at this release's schema or newer: no pre-start step.
        instances = target.start(replace(spec, pre_start_command=None))
    timings["start"] = engine.clock() - t
    checkpoint(Step.CONTAINERS_STARTED, environment)
    switched = False
    router = engine.platform.router(environment, cfg, target)
    try:
        t = engine.clock()
        instances = target.wait_healthy(instances, cfg.health.timeout_seconds)
        timings["healthy"] = engine.clock() - t
        checkpoint(Step.HEALTHY, environment)
        run_smoke(instances, cfg.smoke, engine.smoke_client)
        checkpoint(Step.SMOKE_PASSED, environment)
        t = engine.clock()
        router.switch(route_for(environment, cfg.edge.hostname, instances, cfg.container_port))
        switched = True
        engine._on_switch(environment)(instances)
        timings["switch"] = engine.clock() - t
        checkpoint(Step.EDGE_SWITCHED, environment)
    except BaseException:
        if switched and current:
            router.switch(route_for(environment, cfg.edge.hostname, current, cfg.container_port))
            engine._on_switch(environment)(current)
        target.stop(instances, STOP_GRACE_SECONDS)
        raise
    if current:
        engine.sleep(cfg.drain_seconds)
        target.stop(current, STOP_GRACE_SECONDS)
    checkpoint(Step.OLD_DRAINED, environment)
