"""The repository's Helm chart on the real local cluster, for every environment.

Each environment's values (helm/values-<env>.yaml) plus the local overlay
(helm/values-local.yaml) install with ``helm upgrade --install --atomic --wait``; every pod is
Ready in a namespace enforcing the ``restricted`` Pod Security level; the Service answers
through kube-proxy with the real workorders image, connected to the host's PostgreSQL; an
upgrade and a ``helm rollback`` are each observed serving the expected version; and an
upgrade to an image that crashes at start is undone by ``--atomic`` while the previous pods
keep serving.

Pods reach the host's PostgreSQL (listening on loopback only) through a relay this test runs
on the node IP: a pod's packets to the node IP arrive from the pod bridge, which a loopback
listener never sees.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import secrets
import socket
import tarfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from k8s_fixture import WAIT_SECONDS, K8sCluster

from shiprail import _subprocess
from shiprail.kubernetes.cluster.layout import node_ip
from shiprail.paths import repo_root

from conftest import require_tools, unavailable

ROOT = repo_root()
RELEASES = "shiprail-releases"
REPOSITORY = "shiprail-test/workorders-chart"
#: How long ``--atomic`` waits for a crashing release before rolling it back.
CRASH_TIMEOUT = "40s"
pytestmark = pytest.mark.docker


def _relay(listener: socket.socket, target: tuple[str, int]) -> None:
    """Accept forever; pump bytes both ways between each client and ``target``."""

    def pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    while True:
        try:
            client, _ = listener.accept()
        except OSError:
            return
        upstream = socket.create_connection(target, timeout=10)
        upstream.settimeout(None)
        for pair in ((client, upstream), (upstream, client)):
            threading.Thread(target=pump, args=pair, daemon=True).start()


@pytest.fixture(scope="module")
def database_url() -> Iterator[str]:
    """The host's PostgreSQL as pods reach it (node IP + relay), migrated to head."""
    url = os.environ.get("SHIPRAIL_TEST_POSTGRES_URL")
    if not url:
        unavailable("SHIPRAIL_TEST_POSTGRES_URL is not set (scripts/services.sh start)")
    from workorders import migrate

    migrate.upgrade(url)
    parts = urlsplit(url)
    listener = socket.socket()
    listener.bind((node_ip(), 0))
    listener.listen(64)
    threading.Thread(
        target=_relay, args=(listener, (parts.hostname, parts.port or 5432)), daemon=True
    ).start()
    netloc = parts.netloc.rsplit("@", 1)[0] + f"@{node_ip()}:{listener.getsockname()[1]}"
    yield parts._replace(netloc=netloc).geturl()
    listener.close()


def _build(client: Any, base: str, tag: str, version: str, crash: bool = False) -> str:
    lines = [f"FROM {base}", f"ENV WORKORDERS_VERSION={version}"]
    if crash:
        lines.append('ENTRYPOINT ["python3", "-c", "raise SystemExit(\'broken on purpose\')"]')
    dockerfile = ("\n".join(lines) + "\n").encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(dockerfile)
        tar.addfile(info, io.BytesIO(dockerfile))
    buffer.seek(0)
    client.images.build(fileobj=buffer, custom_context=True, tag=tag, network_mode="none", rm=True)
    return tag


@pytest.fixture(scope="module")
def images(docker_client: Any, k8s_cluster: K8sCluster) -> dict[str, str]:
    """Three tags of the real image (two versions and one that crashes), in the cluster."""
    require_tools("helm")
    tags = [t for image in docker_client.images.list("workorders") for t in image.tags]
    if not tags:
        unavailable("no workorders image in the Docker Engine (make image)")
    base = sorted(tags, key=lambda t: docker_client.images.get(t).attrs["Created"])[-1]
    wanted = {"v1": ("1.0.0-chart", False), "v2": ("2.0.0-chart", False),
              "crash": ("9.0.0-crash", True)}  # fmt: skip
    built = {}
    for key, (version, crash) in wanted.items():
        tag = _build(docker_client, base, f"{REPOSITORY}:{key}", version, crash)
        k8s_cluster.import_image(tag)
        built[key] = key
    return built


class Release:
    """One environment's Helm release on the local cluster, in a namespace of its own."""

    def __init__(self, cluster: K8sCluster, env: str, database_url: str, tmp: Path) -> None:
        self.cluster, self.env = cluster, env
        self.name = f"workorders-{env}-{secrets.token_hex(2)}"
        self.namespace = self.name
        overlay = tmp / "values-test.yaml"
        overlay.write_text(json.dumps({"namespace": {"create": False, "name": self.namespace}}))
        self.values = [ROOT / "helm" / f"values-{env}.yaml", ROOT / "helm" / "values-local.yaml",
                       overlay]  # fmt: skip
        kubectl = cluster.kubectl
        kubectl("create", "namespace", self.namespace)
        kubectl("label", "namespace", self.namespace,
                "pod-security.kubernetes.io/enforce=restricted")  # fmt: skip
        kubectl("-n", self.namespace, "create", "secret", "generic", "workorders-database",
                f"--from-literal=url={database_url}")  # fmt: skip
        kubectl("-n", self.namespace, "create", "secret", "generic", "workorders-api-tokens",
                f"--from-literal=hashes={secrets.token_hex(32)}")  # fmt: skip

    def helm(self, *args: str, ok_codes: tuple[int, ...] | None = (0,)) -> _subprocess.Completed:
        return _subprocess.run(
            ["helm", *args, "-n", RELEASES, f"--kubeconfig={self.cluster.kubeconfig}"],
            timeout=WAIT_SECONDS + 60,
            ok_codes=ok_codes,
        )

    def install(self, tag: str, timeout: str = f"{WAIT_SECONDS}s") -> _subprocess.Completed:
        files = [arg for path in self.values for arg in ("-f", str(path))]
        return self.helm(
            "upgrade", "--install", self.name, str(ROOT / "helm" / "chart"), "--create-namespace",
            *files, "--set", f"image.repository={REPOSITORY}", "--set", f"image.tag={tag}",
            "--set", "image.digest=", "--atomic", "--wait", f"--timeout={timeout}",
            ok_codes=None,
        )  # fmt: skip

    def service_url(self) -> str:
        ip = self.cluster.kubectl("-n", self.namespace, "get", "service", "workorders",
                                  "-o", "jsonpath={.spec.clusterIP}").stdout  # fmt: skip
        return f"http://{ip}"

    def get(self, path: str) -> tuple[int, str]:
        """One request through the Service (kube-proxy's rules), retried while they sync."""
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(self.service_url() + path, timeout=5) as response:
                    return int(response.status), response.read().decode()
            except (OSError, urllib.error.URLError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def versions(self, samples: int = 12) -> set[str]:
        """The versions the Service answers with, over several requests (all replicas)."""
        return {json.loads(self.get("/version")[1])["version"] for _ in range(samples)}

    def pods(self) -> list[dict[str, Any]]:
        out = self.cluster.kubectl("-n", self.namespace, "get", "pods", "-o", "json").stdout
        items: list[dict[str, Any]] = json.loads(out)["items"]
        return items

    def cleanup(self) -> None:
        self.helm("uninstall", self.name, "--wait", ok_codes=None)
        self.cluster.kubectl("delete", "namespace", self.namespace, "--wait=false", ok_codes=None)


@pytest.fixture(params=["dev", "stage", "prod"])
def release(
    request: pytest.FixtureRequest, k8s_cluster: K8sCluster, database_url: str, tmp_path: Path
) -> Iterator[Release]:
    handle = Release(k8s_cluster, request.param, database_url, tmp_path)
    try:
        yield handle
    finally:
        handle.cleanup()


def _ready(pod: dict[str, Any]) -> bool:
    conditions = pod["status"].get("conditions", [])
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


def test_each_environment_installs_serves_upgrades_rolls_back_and_survives_a_crash(
    release: Release, images: dict[str, str]
) -> None:
    installed = release.install(images["v1"])
    assert installed.returncode == 0, installed.stderr
    pods = release.pods()
    assert pods and all(_ready(p) for p in pods)
    assert all(
        p["spec"]["securityContext"]["runAsNonRoot"]
        and p["spec"]["securityContext"]["seccompProfile"]
        for p in pods
    )
    status, body = release.get("/ready")
    assert status == 200, body
    status, metrics = release.get("/metrics")
    assert status == 200 and re.search(r"^http_requests?_", metrics, re.M), metrics[:300]
    kinds = release.cluster.kubectl("-n", release.namespace, "get", "hpa,pdb", "-o", "name").stdout
    expected = {"dev": 0, "stage": 2, "prod": 2}[release.env]
    assert len(kinds.split()) == expected, kinds
    assert release.versions() == {"1.0.0-chart"}

    assert release.install(images["v2"]).returncode == 0
    assert release.versions() == {"2.0.0-chart"}
    release.helm("rollback", release.name, "1", "--wait", f"--timeout={WAIT_SECONDS}s")
    assert release.versions() == {"1.0.0-chart"}

    crashed = release.install(images["crash"], timeout=CRASH_TIMEOUT)
    assert crashed.returncode != 0 and "rolled back" in (crashed.stderr + crashed.stdout)
    assert release.versions() == {"1.0.0-chart"}
    history = json.loads(release.helm("history", release.name, "-o", "json").stdout)
    assert history[-1]["status"] == "deployed"
    assert history[-1]["description"].startswith("Rollback to")
