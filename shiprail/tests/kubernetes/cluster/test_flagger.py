"""Flagger's blue/green on the real local cluster: one promotion, one abort.

Flagger's controller (``flagger``, built from tools.lock) runs as a process beside the test,
outside the cluster, with its ``kubernetes`` provider: it owns the Services (``workorders``
selects the primary's pods), copies the chart's Deployment to ``workorders-primary``, runs the
new version beside it as the canary with no user traffic, calls the Canary's webhooks, and
either copies the canary's spec to the primary (promotion) or scales it to zero (abort). The
Canary is the repository's blue/green variant (gitops/flagger/variants/) turned to the local
cluster: the ``kubernetes`` provider instead of the Gateway API, a 10 s interval (Flagger's
shortest: it raises any shorter one to 10 s), two iterations, and webhooks only. Its metric
checks are dropped: Flagger's built-in metrics are queries on a mesh's or an ingress
controller's request metrics in Prometheus, none of which run here.

The webhooks are this test's HTTP server on 127.0.0.1 (Flagger calls them from its process,
so no pod has to reach it): the pre-rollout ``smoke`` hook asks the canary's ``/ready`` and
``/version`` through its Service and answers 200, or 500 when the test tells it to, and the
``rollout`` hook, called at every iteration, answers likewise. The chart is installed with
``progressiveDelivery.flagger`` on (it then leaves the Services to Flagger) over dev's values
and the local overlay; each pod keeps its data in a SQLite file of its own.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from k8s_fixture import WAIT_SECONDS, K8sCluster

from shiprail import _subprocess

from .test_chart import REPOSITORY, ROOT, Release, _build
from conftest import require_tools, unavailable, wait_until

pytestmark = pytest.mark.docker

VARIANT = ROOT / "gitops" / "flagger" / "variants" / "canary-bluegreen.yaml"
#: The analysis: short enough for a test, the same shape as the variant's.
INTERVAL, ITERATIONS, THRESHOLD = "10s", 2, 2
#: The versions the three images answer ``/version`` with.
VERSIONS = {"v1": "1.0.0-flagger", "v2": "2.0.0-flagger", "v3": "3.0.0-flagger"}
#: Where Flagger would find Prometheus: nothing listens there (no metric checks run).
NO_METRICS_SERVER = "http://127.0.0.1:9"


class Webhooks:
    """Flagger's webhook target: records each call, answers 200, or 500 once told to fail."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.smoke: list[dict[str, Any]] = []  # what the smoke hook saw of the canary
        self.status = 200
        self.canary_url = ""
        hooks = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                hooks.calls.append((self.path, json.loads(body or b"{}")))
                status = hooks.status
                if status == 200 and self.path == "/smoke":
                    status = hooks.check_canary()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def check_canary(self) -> int:
        """The smoke test: the canary answers ``/ready`` and names its version."""
        try:
            with urllib.request.urlopen(self.canary_url + "/ready", timeout=5) as ready:
                ready.read()
            with urllib.request.urlopen(self.canary_url + "/version", timeout=5) as response:
                self.smoke.append(json.loads(response.read()))
        except (OSError, ValueError):
            return 502
        return 200

    def phases(self, path: str) -> list[str]:
        return [payload.get("phase", "") for hook, payload in self.calls if hook == path]


def _canary(namespace: str, hooks: Webhooks) -> dict[str, Any]:
    """The repository's blue/green Canary, turned to this cluster and this test's webhooks."""
    canary: dict[str, Any] = yaml.safe_load(VARIANT.read_text())
    spec = canary["spec"]
    canary["metadata"]["namespace"] = namespace
    spec["provider"] = "kubernetes"
    spec.pop("autoscalerRef")  # dev runs one replica, no HPA
    spec["progressDeadlineSeconds"] = WAIT_SECONDS
    spec["service"] = {"port": spec["service"]["port"], "targetPort": spec["service"]["targetPort"]}
    analysis = spec["analysis"]
    assert "iterations" in analysis and "stepWeight" not in analysis  # blue/green, not weights
    analysis.update(interval=INTERVAL, iterations=ITERATIONS, threshold=THRESHOLD, metrics=[])
    analysis["webhooks"] = [
        {"name": "smoke", "type": "pre-rollout", "url": f"{hooks.url}/smoke", "timeout": "15s"},
        {"name": "check", "type": "rollout", "url": f"{hooks.url}/check", "timeout": "5s"},
    ]
    return canary


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def flagger_images(docker_client: Any, k8s_cluster: K8sCluster) -> dict[str, str]:
    """Three versions of the real image (test_chart's way), in the cluster: key -> tag."""
    require_tools("helm", "flagger")
    tags = [t for image in docker_client.images.list("workorders") for t in image.tags]
    if not tags:
        unavailable("no workorders image in the Docker Engine (make image)")
    base = sorted(tags, key=lambda t: docker_client.images.get(t).attrs["Created"])[-1]
    for key, version in VERSIONS.items():
        tag = _build(docker_client, base, f"{REPOSITORY}:flagger-{key}", version)
        k8s_cluster.import_image(tag)
    return {key: f"flagger-{key}" for key in VERSIONS}


@pytest.fixture
def flagger_crds(k8s_cluster: K8sCluster, crds_dir: Path) -> Path:
    """Flagger's CRDs (the pinned data), applied and established."""
    require_tools("flagger")
    crds = sorted(crds_dir.glob("flagger-*-crd.yaml"))
    if not crds:
        unavailable("Flagger's CRDs are not in the CRD data (make tools)")
    k8s_cluster.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(crds[-1]))
    k8s_cluster.kubectl("wait", "--for=condition=Established", "--timeout=60s",
                        "crd/canaries.flagger.app", "crd/metrictemplates.flagger.app",
                        "crd/alertproviders.flagger.app")  # fmt: skip
    return crds[-1]


class Rollout:
    """The chart with Flagger on, the Canary, and the controller watching its namespace."""

    def __init__(self, release: Release, hooks: Webhooks, log: Path) -> None:
        self.release, self.hooks, self.log = release, hooks, log
        self.kubectl = release.cluster.kubectl
        self.namespace = release.namespace
        self.process = _subprocess.start(
            ["flagger", f"-kubeconfig={release.cluster.kubeconfig}", "-mesh-provider=kubernetes",
             f"-metrics-server={NO_METRICS_SERVER}", f"-namespace={self.namespace}",
             f"-port={_free_port()}", "-control-loop-interval=2s", "-log-level=info",
             "-zap-encoding=console"],
            log_path=log,
        )  # fmt: skip

    def canary(self) -> dict[str, Any]:
        out = self.kubectl("-n", self.namespace, "get", "canary", "workorders", "-o", "json")
        status: dict[str, Any] = json.loads(out.stdout).get("status", {})
        return status

    def wait_phase(self, phases: set[str], after: str | None = None) -> dict[str, Any]:
        """Wait for a phase in ``phases`` of a revision other than ``after`` (lastAppliedSpec)."""
        seen: list[str] = []
        found: dict[str, Any] = {}

        def done() -> bool:
            assert self.process.poll() is None, f"flagger exited:\n{self.log_tail()}"
            status = self.canary()
            found.update(status)
            if not seen or seen[-1] != status.get("phase"):
                seen.append(status.get("phase", ""))
            return status.get("phase") in phases and status.get("lastAppliedSpec") != after

        try:
            wait_until(done, WAIT_SECONDS, what=f"Canary phase {phases}", interval=1)
        except BaseException:
            print(f"phases seen: {seen}\nstatus: {found}\n{self.events()}\n{self.log_tail()}")
            raise
        found["seen"] = seen
        return found

    def upgrade(self, tag: str) -> None:
        result = self.release.install(tag)
        assert result.returncode == 0, result.stderr

    def image(self, deployment: str) -> str:
        path = "jsonpath={.spec.template.spec.containers[0].image}"
        out = self.kubectl("-n", self.namespace, "get", "deployment", deployment, "-o", path)
        return str(out.stdout)

    def replicas(self, deployment: str) -> int:
        out = self.kubectl("-n", self.namespace, "get", "deployment", deployment, "-o",
                           "jsonpath={.spec.replicas}").stdout  # fmt: skip
        return int(out or 0)

    def events(self) -> str:
        out = self.kubectl("-n", self.namespace, "get", "events", "--field-selector",
                           "involvedObject.kind=Canary", "-o",
                           "custom-columns=TYPE:.type,MESSAGE:.message", ok_codes=None)  # fmt: skip
        return str(out.stdout)

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:  # a stuck controller is killed
            self.process.kill()
            self.process.wait(timeout=15)


@pytest.fixture
def rollout(
    k8s_cluster: K8sCluster, flagger_crds: Path, flagger_images: dict[str, str],
    tmp_path: Path,
) -> Iterator[Rollout]:  # fmt: skip
    release = Release(k8s_cluster, "dev", "sqlite:////tmp/workorders.db", tmp_path)
    overlay = tmp_path / "values-flagger.yaml"
    overlay.write_text(json.dumps({"progressiveDelivery": {"flagger": True}}))
    release.values.append(overlay)
    hooks = Webhooks()
    handle: Rollout | None = None
    try:
        installed = release.install(flagger_images["v1"])
        assert installed.returncode == 0, installed.stderr
        handle = Rollout(release, hooks, tmp_path / "flagger.log")
        yield handle
    finally:
        if handle is not None:
            handle.kubectl("-n", release.namespace, "delete", "canary", "workorders",
                           "--ignore-not-found", "--wait=false", ok_codes=None)  # fmt: skip
        release.cleanup()
        if handle is not None:
            handle.stop()
        hooks.server.shutdown()
        with contextlib.suppress(OSError):
            hooks.server.server_close()


def test_flagger_promotes_a_passing_release_and_aborts_one_whose_webhook_fails(
    rollout: Rollout, flagger_images: dict[str, str]
) -> None:
    hooks, release = rollout.hooks, rollout.release
    # The chart with progressiveDelivery.flagger renders no Service: Flagger makes them.
    services = rollout.kubectl("-n", rollout.namespace, "get", "services", "-o", "name").stdout
    assert services.split() == [], services
    rollout.kubectl("apply", "-f", "-", input_text=json.dumps(_canary(rollout.namespace, hooks)))

    initialized = rollout.wait_phase({"Initialized"})
    services = rollout.kubectl("-n", rollout.namespace, "get", "services", "-o", "name").stdout
    assert set(services.split()) == {f"service/workorders{s}" for s in ("", "-primary", "-canary")}
    assert rollout.image("workorders-primary").endswith(":flagger-v1")
    assert rollout.replicas("workorders") == 0  # the chart's Deployment is now the canary
    assert release.versions() == {VERSIONS["v1"]}
    canary_ip = rollout.kubectl("-n", rollout.namespace, "get", "service", "workorders-canary",
                                "-o", "jsonpath={.spec.clusterIP}").stdout  # fmt: skip
    hooks.canary_url = f"http://{canary_ip}"
    assert hooks.calls == []  # initialisation runs no analysis

    # (1) a new version whose checks pass: analysed beside the primary, then promoted.
    rollout.upgrade(flagger_images["v2"])
    promoted = rollout.wait_phase({"Succeeded", "Failed"}, after=initialized["lastAppliedSpec"])
    assert promoted["phase"] == "Succeeded", promoted
    assert "Progressing" in promoted["seen"], promoted["seen"]
    assert rollout.image("workorders-primary").endswith(":flagger-v2")
    assert release.versions() == {VERSIONS["v2"]}
    assert hooks.smoke and {s["version"] for s in hooks.smoke} == {VERSIONS["v2"]}, hooks.smoke
    assert len(hooks.phases("/check")) >= ITERATIONS, hooks.calls
    assert {p["name"] for _, p in hooks.calls} == {"workorders"}
    assert {p["namespace"] for _, p in hooks.calls} == {rollout.namespace}
    wait_until(lambda: rollout.replicas("workorders") == 0, 30, what="canary scaled to zero")

    # (2) another version while the webhooks answer 500: aborted, the primary keeps serving.
    hooks.status = 500
    calls_before = len(hooks.calls)
    rollout.upgrade(flagger_images["v3"])
    aborted = rollout.wait_phase({"Succeeded", "Failed"}, after=promoted["lastAppliedSpec"])
    assert aborted["phase"] == "Failed", aborted
    failed_calls = hooks.calls[calls_before:]
    assert len(failed_calls) >= THRESHOLD and {h for h, _ in failed_calls} == {"/smoke"}
    assert rollout.image("workorders-primary").endswith(":flagger-v2")
    assert rollout.image("workorders").endswith(":flagger-v3")  # Helm's spec, never promoted
    assert rollout.replicas("workorders") == 0
    assert release.versions() == {VERSIONS["v2"]}
    assert "Canary failed!" in rollout.events()
