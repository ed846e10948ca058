"""How a new release replaces the live one. Blue/green: start the other colour beside the live
one, prove it (health, smoke), switch the edge proxy in one step, watch it, then stop the old
colour — keeping its containers for an instant rollback.

Every step is undone when a later one fails (or the process is interrupted): the proxy is
switched back to the old colour, which was never stopped, and the new containers are removed.
So a failed rollout always leaves the previous release serving.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from shiprail.deploy.analysis.interface import Analysis, Limits, WatchTarget
from shiprail.deploy.routers.interface import Router
from shiprail.deploy.settings import EnvironmentConfig
from shiprail.deploy.strategies.common import STOP_GRACE_SECONDS, route_for, run_smoke
from shiprail.deploy.targets.interface import Instance, ReleaseSpec, Target
from shiprail.errors import DeployFailed, WatchFailed


@dataclass
class Rollout:
    """One blue/green rollout; ``on_switch`` is told each time traffic moves (file_sd)."""

    environment: str
    config: EnvironmentConfig
    target: Target
    router: Router
    analysis: Analysis
    spec: ReleaseSpec
    previous: list[Instance]
    on_switch: Callable[[list[Instance]], None]
    say: Callable[[str], None] = lambda _m: None
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    smoke_client: httpx.Client | None = None
    timings: dict[str, float] = field(default_factory=dict)
    new: list[Instance] = field(default_factory=list)
    switched: bool = False

    def _step(self, name: str, started: float) -> None:
        self.timings[name] = self.clock() - started

    def run(self) -> list[Instance]:
        """Roll out; on any failure (or interruption) restore the previous release and raise."""
        began = self.clock()
        try:
            self._run()
        except BaseException as exc:
            self.abort()
            if isinstance(exc, KeyboardInterrupt):
                raise DeployFailed(f"interrupted; {self._restored()}") from None
            raise
        finally:
            self.timings["total"] = self.clock() - began
        return self.new

    def _restored(self) -> str:
        if self.previous:
            return f"release {self.previous[0].release_id} is still serving"
        return "there was no previous release to keep serving"

    def _run(self) -> None:
        cfg, env = self.config, self.environment
        t = self.clock()
        self.say(
            f"starting {self.spec.replicas} {self.spec.colour} replica(s) of {self.spec.release_id}"
        )
        self.new = self.target.start(self.spec)
        self._step("start", t)

        t = self.clock()
        self.say(f"waiting for health (up to {cfg.health.timeout_seconds:.0f}s)")
        self.new = self.target.wait_healthy(self.new, cfg.health.timeout_seconds)
        self._step("healthy", t)

        t = self.clock()
        self.say(f"smoke checks: {', '.join(c.path for c in cfg.smoke) or 'none'}")
        run_smoke(self.new, cfg.smoke, self.smoke_client)
        self._step("smoke", t)

        t = self.clock()
        self.say("switching the edge proxy")
        self.router.switch(route_for(env, cfg.edge.hostname, self.new, cfg.container_port))
        self.switched = True
        self.on_switch(self.new)
        self._step("switch", t)
        switched_at = self.clock()

        t = self.clock()
        self.watch()
        self._step("watch", t)

        # The old colour has served its last requests by now (drain), keep it for rollback.
        remaining = cfg.drain_seconds - (self.clock() - switched_at)
        if remaining > 0 and self.previous:
            self.sleep(remaining)
        t = self.clock()
        if self.previous:
            self.say(f"stopping the previous release {self.previous[0].release_id} (kept)")
            self.target.stop(self.previous, STOP_GRACE_SECONDS)
        self._step("drain", t)

    def watch(self) -> None:
        watch = self.config.watch
        if watch.window_seconds <= 0:
            return
        target = WatchTarget(self.environment, self.spec.release_id, tuple(i.url for i in self.new))
        limits = Limits(watch.max_error_ratio, watch.max_p95_seconds, watch.min_requests)
        self.say(f"watching {self.spec.release_id} for {watch.window_seconds:.0f}s")
        self.analysis.begin(target)
        deadline = self.clock() + watch.window_seconds
        while True:
            self.sleep(min(watch.interval_seconds, max(0.0, deadline - self.clock())))
            verdict = self.analysis.check(target, limits)
            if not verdict.ok:
                raise WatchFailed(f"watch: {verdict.reason}")
            if self.clock() >= deadline:
                self.say(f"watch passed: {verdict.reason}")
                return

    def abort(self) -> None:
        """Put the previous release back in front and remove the new containers."""
        if self.switched and self.previous:
            self.say(f"switching back to {self.previous[0].release_id}")
            self.router.switch(
                route_for(
                    self.environment,
                    self.config.edge.hostname,
                    self.previous,
                    self.config.container_port,
                )
            )
            self.on_switch(self.previous)
        leftovers = self.new or self.target.instances(self.environment, self.spec.release_id)
        if leftovers:
            self.target.remove(leftovers)
