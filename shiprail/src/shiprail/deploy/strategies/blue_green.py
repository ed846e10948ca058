"""How a new release replaces the live one. Blue/green: start the other colour beside the live
one, prove it (health, smoke), switch the edge proxy in one step, watch it, then stop the old
colour — keeping its containers for an instant rollback.

Every step is undone when a later one fails (or the process is interrupted): the proxy is
switched back to the old colour, which was never stopped, and the new containers are removed.
So a failed rollout always leaves the previous release serving.
"""

from __future__ import annotations

from dataclasses import dataclass

from shiprail.deploy.analysis.interface import Analysis, Limits, WatchTarget
from shiprail.deploy.checkpoints import Step, checkpoint
from shiprail.deploy.progress import Phase, reason_of, watch_figures
from shiprail.deploy.strategies.common import STOP_GRACE_SECONDS, RolloutBase
from shiprail.errors import WatchFailed


@dataclass(kw_only=True)
class Rollout(RolloutBase):
    """One blue/green rollout, judged after the switch by ``analysis`` (the watch)."""

    analysis: Analysis
    switched: bool = False

    def _run(self) -> None:
        self.start_and_prove()

        t = self.clock()
        self.say("switching the edge proxy")
        self.tracker.stage("switch", f"all new requests to {self.spec.release_id}")
        self.router.switch(self.route(self.new))
        self.switched = True
        self.on_switch(self.new)
        self._step("switch", t)
        checkpoint(Step.EDGE_SWITCHED, self.environment)
        switched_at = self.clock()

        t = self.clock()
        self.watch()
        self._step("watch", t)
        self.retire_previous(switched_at)
        self.tracker.finish(Phase.promoted, f"{self.spec.release_id} serves all traffic")

    def watch(self) -> None:
        watch = self.config.watch
        self.tracker.stage("watch", f"{watch.window_seconds:.0f}s window", weight=100)
        if watch.window_seconds <= 0:
            return
        target = WatchTarget(self.environment, self.spec.release_id, tuple(i.url for i in self.new))
        limits = Limits(watch.max_error_ratio, watch.max_p95_seconds, watch.min_requests)
        self.say(f"watching {self.spec.release_id} for {watch.window_seconds:.0f}s")
        self.analysis.begin(target)
        checkpoint(Step.WATCH, self.environment)
        deadline = self.clock() + watch.window_seconds
        while True:
            self.sleep(min(watch.interval_seconds, max(0.0, deadline - self.clock())))
            verdict = self.analysis.check(target, limits)
            elapsed = watch.window_seconds - (deadline - self.clock())
            self.tracker.figures(watch_figures(elapsed, watch.window_seconds, verdict))
            if not verdict.ok:
                raise WatchFailed(f"watch: {verdict.reason}")
            if self.clock() >= deadline:
                self.say(f"watch passed: {verdict.reason}")
                return

    def abort(self, exc: BaseException | None = None) -> None:
        """Put the previous release back in front and remove the new containers."""
        self.tracker.finish(Phase.failed, reason_of(exc))
        if self.switched:
            self.back_to_previous()
        leftovers = self.leftovers()
        if leftovers:
            if self.switched:
                # requests the edge sent before it switched back finish on the new replicas
                self.target.stop(leftovers, STOP_GRACE_SECONDS)
            self.target.remove(leftovers)
