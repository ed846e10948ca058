"""What every rollout strategy shares: starting and proving the new replicas (start, health,
smoke), the route to a set of replicas, undoing on failure, and stopping the old release."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from shiprail.deploy.checkpoints import Step, checkpoint
from shiprail.deploy.progress import Tracker
from shiprail.deploy.routers.interface import Route, Router
from shiprail.deploy.settings import EnvironmentConfig, SmokeCheck
from shiprail.deploy.targets.interface import Instance, ReleaseSpec, Target
from shiprail.errors import DeployFailed

COLOURS = ("blue", "green")
#: Grace given to a stopping replica to finish its requests.
STOP_GRACE_SECONDS = 10.0


def other_colour(colour: str | None) -> str:
    return "green" if colour == "blue" else "blue"


def run_smoke(
    instances: list[Instance],
    checks: list[SmokeCheck],
    client: httpx.Client | None = None,
    on_result: Callable[[str], None] = lambda _line: None,
) -> None:
    """Send every smoke check to every replica directly; raise DeployFailed on the first miss."""
    own = client is None
    http = client or httpx.Client(timeout=10.0)
    try:
        for instance in instances:
            for check in checks:
                url = instance.url.rstrip("/") + check.path
                started = time.perf_counter()
                try:
                    response = http.request(check.method, url)
                except httpx.HTTPError as exc:
                    raise DeployFailed(
                        f"smoke check {check.method} {check.path} on {instance.name}: "
                        f"{type(exc).__name__}"
                    ) from exc
                elapsed_ms = (time.perf_counter() - started) * 1000
                if response.status_code != check.status:
                    raise DeployFailed(
                        f"smoke check {check.method} {check.path} on {instance.name}: status "
                        f"{response.status_code}, expected {check.status}"
                    )
                if check.contains is not None and check.contains not in response.text:
                    raise DeployFailed(
                        f"smoke check {check.method} {check.path} on {instance.name}: body "
                        f"does not contain {check.contains!r}"
                    )
                if elapsed_ms > check.max_latency_ms:
                    raise DeployFailed(
                        f"smoke check {check.method} {check.path} on {instance.name}: "
                        f"{elapsed_ms:.0f} ms, budget {check.max_latency_ms} ms"
                    )
                on_result(f"{check.method} {check.path} on {instance.name}: "
                          f"{response.status_code} in {elapsed_ms:.0f} ms, passed")  # fmt: skip
    finally:
        if own:
            http.close()


def route_for(environment: str, hostname: str, instances: list[Instance], port: int) -> Route:
    first = instances[0]
    return Route(
        environment=environment,
        hostname=hostname,
        release_id=first.release_id,
        colour=first.colour,
        upstreams=tuple(i.upstream for i in instances),
        names=tuple(i.name for i in instances),
        port=port,
    )


@dataclass(kw_only=True)
class RolloutBase(ABC):
    """One rollout of ``spec`` beside the ``previous`` replicas; subclasses give ``_run`` (the
    strategy) and ``abort`` (its undo). ``on_switch`` is told each time all traffic moves to
    one release (file_sd); ``cause`` is what the ledger should record about a success that
    needs explaining (e.g. analysis skipped by a person)."""

    environment: str
    config: EnvironmentConfig
    target: Target
    router: Router
    spec: ReleaseSpec
    previous: list[Instance]
    on_switch: Callable[[list[Instance]], None]
    say: Callable[[str], None] = lambda _m: None
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    smoke_client: httpx.Client | None = None
    timings: dict[str, float] = field(default_factory=dict)
    new: list[Instance] = field(default_factory=list)
    cause: str | None = None
    tracker: Tracker = field(default_factory=Tracker)

    def _step(self, name: str, started: float) -> None:
        self.timings[name] = self.clock() - started

    def run(self) -> list[Instance]:
        """Roll out; on any failure (or interruption) restore the previous release and raise."""
        began = self.clock()
        try:
            self._run()
        except BaseException as exc:
            self.abort(exc)
            if isinstance(exc, KeyboardInterrupt):
                raise DeployFailed(f"interrupted; {self._restored()}") from None
            raise
        finally:
            self.timings["total"] = self.clock() - began
        return self.new

    @abstractmethod
    def _run(self) -> None:
        """The strategy's steps after the new replicas are proven (switch, watch or steps)."""

    @abstractmethod
    def abort(self, exc: BaseException | None = None) -> None:
        """Put the previous release back in front and clean up after a failed rollout."""

    def _restored(self) -> str:
        if self.previous:
            return f"release {self.previous[0].release_id} is still serving"
        return "there was no previous release to keep serving"

    def route(self, instances: list[Instance]) -> Route:
        cfg = self.config
        return route_for(self.environment, cfg.edge.hostname, instances, cfg.container_port)

    def start_and_prove(self) -> None:
        """Start the new replicas beside the live ones, wait for health, run the smoke checks."""
        cfg = self.config
        t = self.clock()
        what = self.starting()
        self.say(f"starting {what} of {self.spec.release_id}")
        self.tracker.stage("start", what)
        self.new = self.target.start(self.spec)
        self._step("start", t)
        checkpoint(Step.CONTAINERS_STARTED, self.environment)

        t = self.clock()
        self.say(f"waiting for health (up to {cfg.health.timeout_seconds:.0f}s)")
        self.tracker.stage("healthy", f"up to {cfg.health.timeout_seconds:.0f}s")
        self.new = self.target.wait_healthy(self.new, cfg.health.timeout_seconds)
        self._step("healthy", t)
        checkpoint(Step.HEALTHY, self.environment)

        t = self.clock()
        self.say(f"smoke checks: {', '.join(c.path for c in cfg.smoke) or 'none'}")
        self.tracker.stage("smoke")
        run_smoke(self.new, cfg.smoke, self.smoke_client, self.tracker.note)
        self._step("smoke", t)
        checkpoint(Step.SMOKE_PASSED, self.environment)

    def starting(self) -> str:
        """What the start step brings up, as the progress and the log say it."""
        return f"{self.spec.replicas} {self.spec.colour} replica(s)"

    def retire_previous(self, switched_at: float) -> None:
        """Once the old release served its last requests (drain), stop it; keep it for rollback."""
        remaining = self.config.drain_seconds - (self.clock() - switched_at)
        self.tracker.stage("drain", f"{max(remaining, 0):.0f}s left for the old release")
        if remaining > 0 and self.previous:
            self.sleep(remaining)
        t = self.clock()
        if self.previous and self.config.previous == "warm":
            self.say(f"keeping the previous release {self.previous[0].release_id} warm")
            self._stop_older_warm()
        elif self.previous:
            self.say(f"stopping the previous release {self.previous[0].release_id} (kept)")
            self.target.stop(self.previous, STOP_GRACE_SECONDS)
        self._step("drain", t)
        checkpoint(Step.OLD_DRAINED, self.environment)

    def _stop_older_warm(self) -> None:
        """With ``previous: warm`` only the release just replaced stays running: the one kept
        warm before it is stopped (still kept, by retention, for a slower rollback)."""
        keep = {self.spec.release_id, self.previous[0].release_id}
        running = self.target.instances(self.environment)
        older = [i for i in running if i.running and i.release_id not in keep]
        if older:
            self.target.stop(older, STOP_GRACE_SECONDS)

    def back_to_previous(self) -> None:
        """Send all traffic to the previous release again (it was never stopped)."""
        if self.previous:
            self.say(f"switching back to {self.previous[0].release_id}")
            self.router.switch(self.route(self.previous))
            self.on_switch(self.previous)

    def leftovers(self) -> list[Instance]:
        """The new release's containers, also when ``start`` failed half-way."""
        return self.new or self.target.instances(self.environment, self.spec.release_id)
