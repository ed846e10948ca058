"""Small doubles passed through the real interfaces (Target, Router, Analysis, MetricSource,
ImageTrust)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import httpx

from shiprail.deploy.analysis.interface import (
    Analysis,
    Limits,
    Measurement,
    MetricSource,
    Verdict,
    WatchTarget,
)
from shiprail.deploy.consistency import EdgeState
from shiprail.deploy.routers.interface import Route, Router, TrafficSplit
from shiprail.deploy.settings import EnvironmentConfig, MetricCheck
from shiprail.deploy.targets.interface import Instance, ReleaseSpec, Target
from shiprail.deploy.trust import TrustedImage
from shiprail.errors import DeployFailed, Refused, UsageError
from shiprail.naming import Scope


@dataclass
class FakeTarget(Target):
    """Containers as dicts; ``unhealthy``/``interrupt`` images misbehave on purpose."""

    images: dict[str, tuple[str, str]] = field(default_factory=dict)
    containers: dict[str, Instance] = field(default_factory=dict)
    removed_images: list[str] = field(default_factory=list)
    #: replicas removed without a graceful stop first (requests in flight would fail)
    removed_while_running: list[str] = field(default_factory=list)
    started_specs: list[ReleaseSpec] = field(default_factory=list)
    pulled: list[str] = field(default_factory=list)
    port: int = 20000

    def pull(self, reference: str, auth: dict[str, str] | None) -> None:
        self.pulled.append(reference)

    def image_digest(self, image: str) -> tuple[str, str]:
        if image not in self.images:
            raise UsageError(f"image '{image}' is not on the target engine")
        return self.images[image]

    def start(self, spec: ReleaseSpec) -> list[Instance]:
        self.started_specs.append(spec)
        out = []
        for index in range(1, spec.replicas + 1):
            self.port += 1
            instance = Instance(
                name=Scope(spec.service, spec.environment).container(spec.release_id, index),
                environment=spec.environment,
                release_id=spec.release_id,
                colour=spec.colour,
                upstream=f"10.0.0.{self.port % 250}:8000",
                url=f"http://{spec.image.replace(':', '-')}.test:{self.port}",
                image=spec.image,
            )
            self.containers[instance.name] = instance
            out.append(instance)
        return out

    def wait_healthy(self, instances: list[Instance], timeout: float) -> list[Instance]:
        for instance in instances:
            if "never-ready" in instance.image:
                raise DeployFailed(f"replicas {instance.name} not healthy within {timeout:.0f}s")
            if "interrupt" in instance.image:
                raise KeyboardInterrupt
        return [self.containers[i.name] for i in instances]

    def instances(self, environment: str, release_id: str | None = None) -> list[Instance]:
        return sorted(
            (
                i
                for i in self.containers.values()
                if i.environment == environment and release_id in (None, i.release_id)
            ),
            key=lambda i: i.name,
        )

    def resume(self, environment: str, release_id: str) -> list[Instance]:
        for instance in self.instances(environment, release_id):
            self.containers[instance.name] = replace(instance, running=True)
        return self.instances(environment, release_id)

    def stop(self, instances: list[Instance], grace_seconds: float = 10.0) -> None:
        for instance in instances:
            if instance.name in self.containers:
                self.containers[instance.name] = replace(instance, running=False)

    def remove(self, instances: list[Instance]) -> None:
        for instance in instances:
            current = self.containers.pop(instance.name, None)
            if current is not None and current.running:
                self.removed_while_running.append(instance.name)

    def remove_image(self, image: str) -> bool:
        if any(i.image == image for i in self.containers.values()):
            return False
        self.removed_images.append(image)
        return True

    def logs_tail(self, instance: Instance, lines: int = 20) -> str:
        return ""

    def running_releases(self, environment: str) -> set[str]:
        return {i.release_id for i in self.instances(environment) if i.running}


@dataclass
class FakeRouter(Router):
    routes: list[Route] = field(default_factory=list)
    splits: list[TrafficSplit] = field(default_factory=list)

    def switch(self, route: Route) -> None:
        self.routes.append(route)

    def split(self, split: TrafficSplit) -> None:
        self.splits.append(split)

    def url(self) -> str:
        return "https://dev.localhost:8443/"

    @property
    def current(self) -> Route | None:
        return self.routes[-1] if self.routes else None


@dataclass
class FakeEdge(FakeRouter):
    """A router whose proxy can be stopped (``running``) and read back, as ``ledger check``
    reads the nginx edge; a switch or split starts the proxy again, as the nginx router does."""

    running: bool = True
    last: Route | TrafficSplit | None = None

    def switch(self, route: Route) -> None:
        self.running, self.last = True, route
        super().switch(route)

    def split(self, split: TrafficSplit) -> None:
        self.running, self.last = True, split
        super().split(split)

    def routed(self) -> EdgeState:
        last = self.last
        if not self.running:
            return EdgeState(running=False)
        if isinstance(last, TrafficSplit):
            ids = (last.stable.release_id, last.canary.release_id)
            return EdgeState(True, ids, last.stable.upstreams + last.canary.upstreams)
        if isinstance(last, Route):
            return EdgeState(True, (last.release_id,), last.upstreams)
        return EdgeState(running=True)


@dataclass
class FakeAnalysis(Analysis):
    """Fails the watch for releases whose image name contains ``errors``."""

    checks: int = 0
    begun: list[WatchTarget] = field(default_factory=list)

    def begin(self, target: WatchTarget) -> None:
        self.begun.append(target)

    def check(self, target: WatchTarget, limits: Limits) -> Verdict:
        self.checks += 1
        if any("errors" in url for url in target.base_urls):
            return Verdict(False, "error ratio 50.0% above 5.0%", 0.5, 0.01, 100)
        return Verdict(True, "error ratio 0.0%", 0.0, 0.01, 100)


@dataclass
class FakeMetricSource(MetricSource):
    """Canary measurements by image name: ``errors`` answers 6 % 5xx, ``slow`` has a p99 of
    800 ms, ``quiet`` gets no requests; anything else is healthy with 100 requests.
    ``on_measure(n)`` runs before the n-th measurement (another process acting meanwhile)."""

    begun: list[WatchTarget] = field(default_factory=list)
    measured: int = 0
    on_measure: Callable[[int], None] | None = None

    def validate(self, checks: Sequence[MetricCheck]) -> None:
        pass

    def begin(self, target: WatchTarget) -> None:
        self.begun.append(target)

    def measure(
        self, target: WatchTarget, checks: Sequence[MetricCheck], interval_seconds: float
    ) -> Measurement:
        self.measured += 1
        if self.on_measure is not None:
            self.on_measure(self.measured)
        urls = " ".join(target.base_urls)
        if "quiet" in urls:
            return Measurement(0.0, {c.name: None for c in checks})
        rate, p99 = (94.0 if "errors" in urls else 100.0), (800.0 if "slow" in urls else 50.0)
        values = {"request-success-rate": rate, "request-duration": p99}
        return Measurement(100.0, {c.name: values.get(c.name) for c in checks})


def smoke_transport(broken: tuple[str, ...] = ("smoke-fails",)) -> httpx.Client:
    """An httpx client whose replicas answer 200, except images named in ``broken`` (500)."""

    def handler(request: httpx.Request) -> httpx.Response:
        if any(word in request.url.host for word in broken):
            return httpx.Response(500, text="boom")
        return httpx.Response(200, json={"status": "ok"})

    return httpx.Client(transport=httpx.MockTransport(handler))


@dataclass
class FakeTrust:
    """Admits every image as itself, except those in ``refuse`` (image → failed check);
    records each call as (environment, image, commit, verify)."""

    refuse: dict[str, str] = field(default_factory=dict)
    calls: list[tuple[str, str, str | None, bool]] = field(default_factory=list)

    def admit(
        self,
        environment: str,
        cfg: EnvironmentConfig,
        image: str,
        *,
        commit: str | None,
        verify: bool,
    ) -> TrustedImage:
        self.calls.append((environment, image, commit, verify))
        if verify and image in self.refuse:
            raise Refused(f"verify {image}: check '{self.refuse[image]}' failed: by the test")
        if not verify:
            return TrustedImage(reference=image, digest=None, commit=None)
        return TrustedImage(
            reference=image,
            digest=None,
            commit=commit,
            sbom_digest="sha256:" + "5" * 64,
            verification="verified: signature, provenance, source, commit, scan (test double)",
        )
