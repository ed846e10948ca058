"""Canary: the new release takes a growing share of the traffic while its own metrics are
judged, and becomes the live release only at 100 %.

Start the canary's replicas beside the live (stable) ones and prove them (health, smoke), as
blue/green does. Then, for each step of ``canary.steps`` (10 → 25 → 50 → 100 by default):
route that weight to the canary through the edge, wait one ``interval_seconds``, and judge
the canary's requests of that interval with every metric check. As in Flagger:

* an interval in which any check fails counts one failed check and the step is held; at
  ``threshold`` failed checks (cumulative over the rollout) the canary is aborted;
* an interval with fewer than ``min_requests`` canary requests gives no verdict: the step
  *pauses* (and says so); after ``max_paused_intervals`` paused intervals in a row it aborts;
* at 100 % all traffic goes to the canary, the old replicas drain and are stopped — kept for
  an instant rollback, as blue/green keeps them.

Abort (failed checks, no traffic, ``shiprail abort``): all traffic back to the stable release
at once, the canary's containers stopped but kept for inspection, and :class:`CanaryAborted`
raised with the failing checks and their values. ``shiprail promote --skip-analysis`` sends
the canary to 100 % at the next interval without judging it. Both requests come through the
ledger (``deploy.progress``), read once per interval, so one interval bounds how long a bad
canary keeps its share of the traffic after the decision.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx

from shiprail.deploy import progress
from shiprail.deploy.analysis.interface import Measurement, MetricSource, WatchTarget
from shiprail.deploy.checkpoints import Step, checkpoint
from shiprail.deploy.ledger import Ledger
from shiprail.deploy.progress import Phase, Request
from shiprail.deploy.routers.interface import Sticky, TrafficSplit
from shiprail.deploy.settings import MetricCheck
from shiprail.deploy.strategies.common import STOP_GRACE_SECONDS, RolloutBase
from shiprail.deploy.strategies.synthetic_load import SyntheticTraffic
from shiprail.deploy.targets.interface import Instance
from shiprail.errors import DeployFailed


class CanaryAborted(DeployFailed):
    """The canary was stopped by its analysis or by a person; the stable release serves."""


def failed_checks(checks: list[MetricCheck], measurement: Measurement) -> list[str]:
    """Each failing check as ``name value (bound)``: a check without data fails, as in
    Flagger, because a canary that stops producing series must not look healthy."""
    failures = [measurement.problem] if measurement.problem else []
    for check in checks:
        value = measurement.values.get(check.name)
        if value is None:
            failures.append(f"{check.name}: no data")
        elif check.min is not None and value < check.min:
            failures.append(f"{check.name} {value:.2f} < {check.min:g}")
        elif check.max is not None and value > check.max:
            failures.append(f"{check.name} {value:.2f} > {check.max:g}")
    return failures


@dataclass(kw_only=True)
class CanaryRollout(RolloutBase):
    """One canary rollout; its step, weight and phase are kept in the ledger's ``rollouts``
    row of ``attempt_id``, where requests from other processes are read too.

    ``on_split`` writes the file_sd targets of both releases while traffic is split;
    ``edge_client`` makes a client for the edge (synthetic load); ``announce`` tells
    Alertmanager about an abort and returns why it could not, if it could not."""

    metrics: MetricSource
    ledger: Ledger
    attempt_id: int
    on_split: Callable[[list[Instance], list[Instance]], None]
    edge_client: Callable[[], httpx.Client] | None = None
    announce: Callable[[str, str, str], str | None] | None = None
    weight: int = 0
    step: int = 0
    split_at: float | None = None

    def _run(self) -> None:
        canary = self.config.canary
        self.metrics.validate(canary.checks)
        self._record(Phase.starting, "starting and proving the canary's replicas")
        self.start_and_prove()
        target = WatchTarget(self.environment, self.spec.release_id, tuple(i.url for i in self.new))
        t = self.clock()
        try:
            with self._synthetic_load():
                self.analyse(target)
        finally:  # an aborted canary's attempt reports how long it was judged too
            self._step("analysis", t)
        switched_at = self.clock()
        if self.weight < 100:  # analysis skipped by a person before the last step
            self._route(100)
        self.on_switch(self.new)
        self._record(Phase.promoted, self.cause or "all traffic on the canary")
        self.retire_previous(switched_at)

    @contextlib.contextmanager
    def _synthetic_load(self) -> Iterator[None]:
        load = self.config.canary.synthetic_load
        if load is None or self.edge_client is None:
            yield
            return
        self.say(f"synthetic load: {load.rate_per_second:g}/s to {', '.join(load.paths)}")
        with SyntheticTraffic(load, self.edge_client) as traffic:
            yield
        self.say(f"synthetic load sent {traffic.sent} request(s)")

    def _record(self, phase: Phase, detail: str) -> None:
        progress.update(
            self.ledger,
            self.attempt_id,
            phase=phase,
            step=self.step,
            weight=self.weight,
            detail=detail,
        )

    def _route(self, weight: int) -> None:
        """Move ``weight`` % of new requests to the canary (100: all of them)."""
        self.weight = weight
        if weight >= 100:
            self.router.switch(self.route(self.new))
            return
        sticky = self.config.canary.sticky
        self.router.split(
            TrafficSplit(
                stable=self.route(self.previous),
                canary=self.route(self.new),
                canary_weight=weight,
                sticky=Sticky(sticky.header, sticky.cookie) if sticky else None,
            )
        )

    def analyse(self, target: WatchTarget) -> None:
        """Walk the steps; return when the canary may take all traffic, raise to abort."""
        canary = self.config.canary
        failed = paused = 0
        self.step = 1
        self._enter_step(target, first=True)
        checkpoint(Step.EDGE_SWITCHED, self.environment)
        while True:
            self.sleep(canary.interval_seconds)
            checkpoint(Step.WATCH, self.environment)
            if self._handle_request():
                return
            measurement = self.metrics.measure(target, canary.checks, canary.interval_seconds)
            where = f"step {self.step}/{len(canary.steps)} ({self.weight}%)"
            if measurement.requests < canary.min_requests and measurement.problem is None:
                paused += 1
                detail = (
                    f"paused at {where}: {measurement.requests:.0f} canary request(s) in the "
                    f"interval, fewer than {canary.min_requests}; no verdict "
                    f"({paused}/{canary.max_paused_intervals})"
                )
                self.say(detail)
                self._record(Phase.paused, detail)
                if paused >= canary.max_paused_intervals:
                    raise self._decide_abort(
                        f"canary aborted at {where}: too little traffic to judge it for "
                        f"{paused} interval(s) of {canary.interval_seconds:g}s "
                        f"(fewer than {canary.min_requests} requests each)"
                    )
                continue
            paused = 0
            failures = failed_checks(canary.checks, measurement)
            if failures:
                failed += 1
                detail = f"failed check {failed}/{canary.threshold} at {where}: " + "; ".join(
                    failures
                )
                self.say(detail)
                self._record(Phase.progressing, detail)
                if failed >= canary.threshold:
                    raise self._decide_abort(f"canary aborted: {detail}")
                continue
            self.say(f"{where} passed with {measurement.requests:.0f} canary request(s)")
            if self.weight >= 100:
                return
            self.step += 1
            self._enter_step(target)

    def _enter_step(self, target: WatchTarget, *, first: bool = False) -> None:
        weight = self.config.canary.steps[self.step - 1]
        self._route(weight)
        self.on_split(self.previous, self.new)
        if first:
            self.split_at = self.clock()
            self.metrics.begin(target)
        detail = f"canary {weight}%, stable {100 - weight}%"
        self.say(f"step {self.step}/{len(self.config.canary.steps)}: {detail}")
        self._record(Phase.progressing, detail)

    def _decide_abort(self, message: str) -> CanaryAborted:
        """The abort decision; ``timings["detect"]`` is how long it took from the first split
        (the time a bad canary had real traffic before it was caught)."""
        if self.split_at is not None:
            self.timings["detect"] = self.clock() - self.split_at
        return CanaryAborted(message)

    def _handle_request(self) -> bool:
        """Act on a person's request from the ledger: raise for abort, True for skip-analysis."""
        state = progress.read(self.ledger, self.attempt_id)
        if state is None or state.requested is None:
            return False
        who = f"{state.requested_by}: {state.request_reason}"
        if state.requested == Request.abort:
            raise self._decide_abort(f"canary aborted by {who}")
        self.cause = f"analysis skipped by {who}"
        self.say(f"{self.cause}; sending all traffic to the canary")
        return True

    def abort(self, exc: BaseException | None = None) -> None:
        """All traffic back to the stable release; an aborted canary's containers are stopped
        and kept for inspection, a canary that failed before judgement is removed."""
        if self.weight > 0:
            self.back_to_previous()
            self.weight = 0
        if isinstance(exc, DeployFailed):
            reason = exc.message
        else:
            reason = "interrupted" if isinstance(exc, KeyboardInterrupt) else repr(exc)
        if isinstance(exc, CanaryAborted):
            self.say(f"stopping the canary {self.spec.release_id} (kept for inspection)")
            self.target.stop(self.new, STOP_GRACE_SECONDS)
            self._record(Phase.aborted, reason)
            self._announce(reason)
            return
        leftovers = self.leftovers()
        if leftovers:
            self.target.remove(leftovers)
        self._record(Phase.failed, reason)

    def _announce(self, reason: str) -> None:
        if self.announce is None:
            return
        problem = self.announce(self.environment, self.spec.release_id, reason)
        if problem:
            self.say(f"could not announce the abort: {problem} (the deploy outcome stands)")
