"""A Kubernetes cluster as a release target: each release is a revision of one Helm release.

The engine's vocabulary maps onto Helm this way, so blue/green's undo logic, the ledger and
rollbacks work unchanged:

- ``start`` is ``helm upgrade --install --atomic --wait`` with the release's image (by digest)
  and the environment's values files; the pods carry the release id as a label. Kubernetes
  rolls the pods over (the Service selects the new ones as they turn Ready), and ``--atomic``
  puts the previous revision back by itself when the new pods never get Ready.
- ``instances`` are the release's pods; shiprail reaches each through the API server's pod
  proxy (``kubectl proxy`` on loopback), so smoke checks and the watch need no route into
  the cluster's network and work the same on a local cluster, EKS or AKS.
- a release is *kept* as a Helm revision: ``resume`` is ``helm rollback`` to the latest
  revision that served it; ``stop`` of the release being served rolls back to the revision
  before it (the one it replaced); ``remove`` has nothing to remove (Kubernetes deletes the
  replaced pods itself, and Helm's history limit prunes revisions).
"""

from __future__ import annotations

import atexit
import json
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from shiprail import _subprocess
from shiprail.deploy.settings import KubernetesTarget as KubernetesSettings
from shiprail.deploy.targets.interface import Instance, ReleaseSpec, Target
from shiprail.errors import DeployFailed, ToolCrashed, UsageError

#: The label that ties a pod to the shiprail release it runs.
RELEASE_LABEL = "shiprail.dev/release"
_DESCRIPTION = "shiprail release "
_ROLLBACK = re.compile(r"^Rollback to (\d+)$")
_SERVING = re.compile(r"Starting to serve on ([0-9.]+:\d+)")


class ApiProxy:
    """``kubectl proxy`` on a free loopback port: the API server reached over plain HTTP from
    this process only, with whatever authentication the kubeconfig uses (certificates, tokens,
    the EKS or AKS exec plugins), which a client of our own would have to reimplement."""

    def __init__(self, kube_args: list[str], log_dir: Path) -> None:
        log_dir.mkdir(parents=True, exist_ok=True)
        log = log_dir / "kubectl-proxy.log"
        log.write_text("")
        self._process = _subprocess.start(
            ["kubectl", "proxy", "--port=0", "--address=127.0.0.1", *kube_args], log_path=log
        )
        atexit.register(self.close)
        deadline = time.monotonic() + 15
        while not (match := _SERVING.search(log.read_text())):
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise DeployFailed(f"kubectl proxy did not start: {log.read_text().strip()[-300:]}")
            time.sleep(0.05)
        self.url = f"http://{match.group(1)}"
        self.http = httpx.Client(base_url=self.url, timeout=10.0)

    def get(self, path: str, **params: Any) -> Any:
        response = self.http.get(path, params=params)
        if response.status_code >= 500 and "dial tcp" in response.text:
            raise DeployFailed(
                f"the cluster's API server cannot be reached: {response.text.strip()[:200]}",
                hint="is the cluster up? shiprail k8s cluster status (local), or check the "
                "kubeconfig's server and context",
            )
        if response.status_code >= 400:
            text = response.text[:200]
            raise DeployFailed(f"Kubernetes API {path}: {response.status_code} {text}")
        if "json" in response.headers.get("content-type", ""):
            return response.json()
        return response.text

    def close(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
            self._process.wait(timeout=10)
        if hasattr(self, "http"):
            self.http.close()


@dataclass(frozen=True)
class Revision:
    number: int
    status: str
    release_id: str | None


def image_values(reference: str) -> dict[str, str]:
    """The chart's ``image`` values for a reference: by digest when it has one (what shiprail
    admits from a registry), else by its tag; a bare image id cannot be pulled by a cluster."""
    if "@" in reference:
        repository, digest = reference.split("@", 1)
        return {"repository": repository, "digest": digest, "tag": ""}
    name, _, tag = reference.rpartition(":")
    if not name or "/" in tag or reference.startswith("sha256:"):
        raise UsageError(
            f"image {reference} has neither a digest nor a tag a cluster could pull",
            hint="deploy a registry reference (registry: in shiprail.yaml) or a tagged image",
        )
    return {"repository": name, "tag": tag, "digest": ""}


class KubernetesTarget(Target):
    """One environment's Helm release; ``load_image`` copies an image into a local cluster
    (None: the cluster pulls by digest from the registry itself)."""

    def __init__(
        self,
        settings: KubernetesSettings,
        *,
        kubeconfig: Path | None,
        root: Path,
        state: Path,
        release: str,
        timeout_seconds: float,
        container_port: int = 8000,
        load_image: Callable[[str, dict[str, str] | None], None] | None = None,
    ) -> None:
        self.settings = settings
        self.root = root
        self.state = state
        self.release = release
        self.timeout = timeout_seconds
        self.port = container_port
        self._load_image = load_image
        self.kubeconfig = kubeconfig
        self._proxy: ApiProxy | None = None

    # -- plumbing -----------------------------------------------------------------------
    def _cluster_args(self, context_flag: str) -> list[str]:
        """kubectl and Helm name the context option differently; the rest is the same."""
        args = [f"--kubeconfig={self.kubeconfig}"] if self.kubeconfig else []
        if self.settings.context:
            args.append(f"{context_flag}={self.settings.context}")
        return args

    @property
    def proxy(self) -> ApiProxy:
        if self._proxy is None:
            if self.kubeconfig is not None and not self.kubeconfig.is_file():
                raise UsageError(
                    f"kubeconfig {self.kubeconfig} does not exist",
                    hint="shiprail k8s cluster up (kubeconfig: local) or fix kubernetes.kubeconfig",
                )
            self._proxy = ApiProxy(self._cluster_args("--context"), self.state / "kubernetes")
        return self._proxy

    def helm(self, *args: str, timeout: float = 120.0) -> str:
        """Run Helm against this environment's cluster and release namespace."""
        namespace = ["--namespace", self.settings.release_namespace]
        command = ["helm", *args, *namespace, *self._cluster_args("--kube-context")]
        try:
            return _subprocess.run(command, timeout=timeout + 30).stdout
        except ToolCrashed as exc:
            raise DeployFailed(f"helm {args[0]} {self.release}: {exc.message}") from None

    def revisions(self) -> list[Revision]:
        """The Helm history, each revision with the shiprail release it serves (a rollback
        revision serves what the revision it rolled back to served)."""
        try:
            raw = self.helm("history", self.release, "--max", "256", "-o", "json")
        except DeployFailed as exc:
            if "not found" in exc.message:
                return []
            raise
        serves: dict[int, str | None] = {}
        result = []
        for entry in sorted(json.loads(raw or "[]"), key=lambda e: int(e["revision"])):
            number, description = int(entry["revision"]), str(entry.get("description", ""))
            if description.startswith(_DESCRIPTION):
                serves[number] = description.removeprefix(_DESCRIPTION)
            elif match := _ROLLBACK.match(description):
                serves[number] = serves.get(int(match.group(1)))
            else:
                serves[number] = None
            result.append(Revision(number, str(entry.get("status", "")), serves[number]))
        return result

    def serving(self) -> str | None:
        """The shiprail release of the deployed revision, or None."""
        deployed = [r for r in self.revisions() if r.status == "deployed"]
        return deployed[-1].release_id if deployed else None

    def _values_file(self, spec: ReleaseSpec, directory: Path) -> Path:
        values = {
            "image": image_values(spec.image),
            "podLabels": {RELEASE_LABEL: spec.release_id, "shiprail.dev/colour": spec.colour},
        }
        path = directory / "shiprail-release.yaml"
        path.write_text(yaml.safe_dump(values))
        return path

    # -- Target -------------------------------------------------------------------------
    def image_digest(self, image: str) -> tuple[str, str]:
        if "@" in image:
            return image.split("@", 1)[1], ""
        return image, ""

    def pull(self, reference: str, auth: dict[str, str] | None) -> None:
        if self._load_image is not None:
            self._load_image(reference, auth)

    def start(self, spec: ReleaseSpec) -> list[Instance]:
        chart = self.root / self.settings.chart
        values = [str(self.root / v) for v in self.settings.values]
        for path in [chart, *map(Path, values)]:
            if not path.exists():
                raise UsageError(
                    f"{spec.environment}: {path} does not exist",
                    hint="kubernetes.chart and kubernetes.values are repo-relative paths",
                )
        with tempfile.TemporaryDirectory() as tmp:
            release_values = self._values_file(spec, Path(tmp))
            self.helm(
                "upgrade", "--install", self.release, str(chart),
                *(f"--values={v}" for v in [*values, str(release_values)]),
                "--create-namespace", "--atomic", "--wait", f"--timeout={self.timeout:.0f}s",
                f"--description={_DESCRIPTION}{spec.release_id}", "--history-max=20",
                timeout=self.timeout,
            )  # fmt: skip
        return self.instances(spec.environment, spec.release_id)

    def wait_healthy(self, instances: list[Instance], timeout: float) -> list[Instance]:
        if not instances:
            raise DeployFailed("no pods of the release were found after the rollout")
        environment, release_id = instances[0].environment, instances[0].release_id
        deadline = time.monotonic() + timeout
        while True:
            current = self.instances(environment, release_id)
            if current and all(i.running for i in current):
                return current
            if time.monotonic() > deadline:
                waiting = [i.name for i in current if not i.running] or ["(none left)"]
                raise DeployFailed(f"pods not Ready within {timeout:.0f}s: {', '.join(waiting)}")
            time.sleep(0.5)

    def instances(self, environment: str, release_id: str | None = None) -> list[Instance]:
        selector = f"app.kubernetes.io/instance={self.release}"
        if release_id is not None:
            selector += f",{RELEASE_LABEL}={release_id}"
        namespace = self.settings.namespace
        pods = self.proxy.get(f"/api/v1/namespaces/{namespace}/pods", labelSelector=selector)
        return [
            self._instance(environment, pod)
            for pod in pods.get("items", [])
            if not pod["metadata"].get("deletionTimestamp")
        ]

    def _instance(self, environment: str, pod: dict[str, Any]) -> Instance:
        meta, status = pod["metadata"], pod.get("status", {})
        name = meta["name"]
        ready = any(
            c.get("type") == "Ready" and c.get("status") == "True"
            for c in status.get("conditions", [])
        )
        labels = meta.get("labels", {})
        containers = pod.get("spec", {}).get("containers", [{}])
        return Instance(
            name=name,
            environment=environment,
            release_id=labels.get(RELEASE_LABEL, ""),
            colour=labels.get("shiprail.dev/colour", ""),
            upstream=f"{status.get('podIP', '')}:{self.port}",
            url=f"{self.proxy.url}/api/v1/namespaces/{meta['namespace']}/pods/{name}:{self.port}/proxy",
            running=ready,
            image=containers[0].get("image", ""),
        )

    def resume(self, environment: str, release_id: str) -> list[Instance]:
        """``helm rollback`` to the latest revision that served ``release_id``."""
        if self.serving() == release_id:
            return self.instances(environment, release_id)
        kept = [r for r in self.revisions() if r.release_id == release_id]
        if not kept:
            return []
        self.helm(
            "rollback", self.release, str(kept[-1].number), "--wait",
            f"--timeout={self.timeout:.0f}s", timeout=self.timeout,
        )  # fmt: skip
        return self.instances(environment, release_id)

    def stop(self, instances: list[Instance], grace_seconds: float = 10.0) -> None:
        """A release stops serving by rolling back to the revision it replaced; the pods of a
        release no longer served are already gone (Kubernetes replaced them)."""
        releases = {i.release_id for i in instances}
        served = self.serving()
        if served is None or served not in releases:
            return
        history = [r for r in self.revisions() if r.release_id is not None]
        earlier = [r for r in history if r.release_id != served]
        if not earlier:
            return
        self.helm(
            "rollback", self.release, str(earlier[-1].number), "--wait",
            f"--timeout={self.timeout:.0f}s", timeout=self.timeout,
        )  # fmt: skip

    def remove(self, instances: list[Instance]) -> None:
        """Nothing to remove: replaced pods are deleted by Kubernetes, revisions by Helm."""

    def remove_image(self, image: str) -> bool:
        return False

    def logs_tail(self, instance: Instance, lines: int = 20) -> str:
        namespace = self.settings.namespace
        try:
            text = self.proxy.get(
                f"/api/v1/namespaces/{namespace}/pods/{instance.name}/log", tailLines=lines
            )
        except DeployFailed as exc:
            return exc.message
        return str(text)
