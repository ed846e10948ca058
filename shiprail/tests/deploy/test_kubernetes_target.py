"""One engine for both shapes: an environment with a ``kubernetes:`` target is deployed,
watched, rolled back and reported by the same engine, ledger and approvals as the single
host, driving Helm against the local cluster (``shiprail k8s cluster up``).

The images are the workorders image and its test variants, built on the Docker Engine and
loaded into the cluster the way ``kubeconfig: local`` does; the chart and the values files
are the repository's, with an overlay that names a namespace of the test's own.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from shiprail import _subprocess
from shiprail.config import ServiceConfig, ShiprailConfig
from shiprail.deploy.engine import Engine
from shiprail.deploy.ledger import Ledger
from shiprail.deploy.platform import docker_platform
from shiprail.deploy.settings import (
    EnvironmentConfig,
    HealthCheck,
    KubernetesTarget,
    SmokeCheck,
    WatchConfig,
)
from shiprail.deploy.states import ReleaseState
from shiprail.deploy.targets.kubernetes import KubernetesTarget as HelmTarget
from shiprail.errors import DeployFailed
from shiprail.paths import repo_root

from .test_docker_integration import _build, _workorders_image, local_trust

pytestmark = pytest.mark.docker

ROOT = repo_root()
#: (image key, test wrapper mode, version the image answers)
VARIANTS = (
    ("v1", None, "1.0.0-k8s"),
    ("v2", None, "2.0.0-k8s"),
    ("smoke-fails", None, "3.0.0-other"),
    ("crash", "crash", "9.0.0-crash"),
)
SMOKE = [
    SmokeCheck(path="/health", contains='"status"', max_latency_ms=2000),
    SmokeCheck(path="/ready", max_latency_ms=2000),
    # the release "smoke-fails" answers a version without this suffix
    SmokeCheck(path="/version", contains='-k8s"', max_latency_ms=2000),
]


class K8sEnv:
    """A dev-like environment on the local cluster, in a namespace of its own."""

    def __init__(self, tmp: Path, client: Any, cluster: Any) -> None:
        self.tmp = tmp
        self.client = client
        self.cluster = cluster
        self.name = f"dev-k{secrets.token_hex(2)}"
        self.namespace = f"workorders-{self.name}"
        base = _workorders_image(client)
        self.images = {
            key: _build(client, base, f"shiprail-test/k8s-{self.name}:{key}", mode, version)
            for key, mode, version in VARIANTS
        }
        overlay = tmp / "values-test.yaml"
        overlay.write_text(
            yaml.safe_dump(
                {
                    "environment": "dev",
                    "namespace": {"create": False, "name": self.namespace},
                    "replicaCount": 2,
                }
            )
        )
        self.kubectl("create", "namespace", self.namespace)
        self.kubectl("label", "namespace", self.namespace,
                     "pod-security.kubernetes.io/enforce=restricted")  # fmt: skip
        self.kubectl("-n", self.namespace, "create", "secret", "generic", "workorders-database",
                     "--from-literal=url=sqlite:////tmp/workorders.db")  # fmt: skip
        self.kubectl("-n", self.namespace, "create", "secret", "generic", "workorders-api-tokens",
                     "--from-literal=hashes=")  # fmt: skip
        settings = KubernetesTarget(
            kubeconfig="local",
            namespace=self.namespace,
            values=["helm/values-dev.yaml", "helm/values-local.yaml", str(overlay)],
        )
        env_cfg = EnvironmentConfig(
            kubernetes=settings,
            health=HealthCheck(timeout_seconds=60),
            smoke=SMOKE,
            watch=WatchConfig(window_seconds=4, interval_seconds=1, min_requests=0),
            verify=False,
            registry=None,
            pre_start=None,
        )
        self.config = ShiprailConfig(
            service=ServiceConfig(name="workorders"), environments={self.name: env_cfg}
        )
        self.ledger = Ledger(f"sqlite:///{tmp / 'state.db'}")
        self.ledger.migrate()
        self.log: list[str] = []

    def kubectl(self, *args: str) -> str:
        command = ["kubectl", f"--kubeconfig={self.cluster.kubeconfig}", *args]
        return _subprocess.run(command, timeout=60).stdout

    def engine(self) -> Engine:
        platform = docker_platform(
            ROOT, self.cluster.state, trust=local_trust(self.tmp, self.client)
        )
        return Engine(
            self.config, self.ledger, platform, file_sd_dir=self.tmp / "targets", root=ROOT,
            actor="integration", say=self.log.append,
        )  # fmt: skip

    def target(self) -> HelmTarget:
        target = self.engine().platform.target(self.name, self.config.environments[self.name])
        assert isinstance(target, HelmTarget)
        return target

    def served_versions(self) -> set[str]:
        """The version each Ready pod of the Helm release answers, through the API server."""
        target = self.target()
        versions = set()
        for pod in target.instances(self.name):
            if pod.running:
                versions.add(httpx.get(pod.url + "/version", timeout=10).json()["version"])
        return versions

    def cleanup(self) -> None:
        release = f"workorders-{self.name}"
        _subprocess.run(["helm", "uninstall", release, "-n", "shiprail-releases",
                         f"--kubeconfig={self.cluster.kubeconfig}"], ok_codes=None)  # fmt: skip
        self.kubectl("delete", "namespace", self.namespace, "--wait=false")


@pytest.fixture(scope="module")
def k8s_env(
    tmp_path_factory: pytest.TempPathFactory, docker_client: Any, k8s_cluster: Any
) -> Iterator[K8sEnv]:
    env = K8sEnv(tmp_path_factory.mktemp("k8s"), docker_client, k8s_cluster)
    try:
        yield env
    finally:
        env.cleanup()


def test_deploy_upgrade_rollback_and_a_crash_kept_out(k8s_env: K8sEnv) -> None:
    env, engine = k8s_env, k8s_env.engine()
    first = engine.deploy(env.name, env.images["v1"])
    assert first.status == ReleaseState.live
    assert env.served_versions() == {"1.0.0-k8s"}
    pods = env.target().instances(env.name, first.id)
    assert len(pods) == 2 and all(p.running for p in pods)

    second = env.engine().deploy(env.name, env.images["v2"])
    assert env.served_versions() == {"2.0.0-k8s"}
    assert env.target().serving() == second.id

    # Deployed by Helm, then refused by a smoke check: the engine rolls back to v2's revision.
    with pytest.raises(DeployFailed, match="smoke check"):
        env.engine().deploy(env.name, env.images["smoke-fails"])
    assert env.served_versions() == {"2.0.0-k8s"}
    assert env.target().serving() == second.id

    # A release that crashes at start: --atomic puts v2 back, the ledger says failed.
    with pytest.raises(DeployFailed):
        env.engine().deploy(env.name, env.images["crash"])
    assert env.served_versions() == {"2.0.0-k8s"}
    assert env.ledger.live_release(env.name).id == second.id  # type: ignore[union-attr]

    rolled = env.engine().rollback(env.name, reason="integration rollback")
    assert rolled.id == first.id
    assert env.served_versions() == {"1.0.0-k8s"}
    assert env.target().serving() == first.id

    status = env.engine().status(env.name)[0]
    assert status.release is not None and status.release.id == first.id
    assert status.replicas.running == status.replicas.expected == 2
    attempts = [
        (str(h.attempt.action), str(h.attempt.status)) for h in env.engine().history(env.name)
    ]
    assert attempts[0] == ("rollback", "succeeded")
    assert ("deploy", "failed") in attempts
    helm = json.loads(
        _subprocess.run(["helm", "history", f"workorders-{env.name}", "-n", "shiprail-releases",
                         f"--kubeconfig={env.cluster.kubeconfig}", "-o", "json"]).stdout
    )  # fmt: skip
    assert helm[-1]["status"] == "deployed" and helm[-1]["description"].startswith("Rollback to")
