"""The local cluster for real: up is idempotent, the node is Ready, a pod under the
``restricted`` Pod Security level runs and its Service answers from the host through
kube-proxy, and down leaves no process, mount, namespace or rule behind.

The pod running at all is the regression test for the sandbox failure this machine showed
("can't get final child's PID from pipe: EOF", configs.py explains it).
"""

from __future__ import annotations

import json
import os
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from k8s_fixture import WAIT_SECONDS, K8sCluster
from typer.testing import CliRunner

from shiprail.cli import app
from shiprail.kubernetes.cluster import cleanup
from shiprail.kubernetes.cluster.layout import CNI_BRIDGE

from conftest import unavailable

runner = CliRunner()
NAMESPACE = "shiprail-cluster-test"

RESTRICTED_POD = """
apiVersion: v1
kind: Pod
metadata: {{name: web, labels: {{app: web}}}}
spec:
  automountServiceAccountToken: false
  securityContext:
    runAsNonRoot: true
    runAsUser: 10001
    seccompProfile: {{type: RuntimeDefault}}
  containers:
    - name: web
      image: {image}
      imagePullPolicy: IfNotPresent
      command: [python3, -m, http.server, "8080", --directory, /etc]
      ports: [{{containerPort: 8080}}]
      readinessProbe: {{httpGet: {{path: /hostname, port: 8080}}, periodSeconds: 2}}
      securityContext:
        allowPrivilegeEscalation: false
        readOnlyRootFilesystem: true
        capabilities: {{drop: [ALL]}}
---
apiVersion: v1
kind: Service
metadata: {{name: web}}
spec:
  selector: {{app: web}}
  ports: [{{port: 80, targetPort: 8080}}]
"""

ROOT_POD = """
apiVersion: v1
kind: Pod
metadata: {name: root}
spec:
  containers: [{name: c, image: shiprail.local/pause:3.10, imagePullPolicy: Never}]
"""


@pytest.fixture(scope="module")
def workorders_image(docker_client: Any) -> str:
    """The newest workorders image the Docker Engine has (it has python3 for a web server)."""
    tags = [t for image in docker_client.images.list("workorders") for t in image.tags]
    if not tags:
        unavailable("no workorders image in the Docker Engine (make image)")
    return str(sorted(tags, key=lambda t: docker_client.images.get(t).attrs["Created"])[-1])


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return str(response.read().decode())


def test_up_is_idempotent(k8s_cluster: K8sCluster) -> None:
    """A second ``up`` starts nothing and leaves every pid as it was."""
    before = {c.name: c.pid for c in k8s_cluster.cluster.status().components}
    status = k8s_cluster.cluster.up()
    assert status.started == [] and status.up
    assert {c.name: c.pid for c in status.components} == before


def test_status_reports_every_component_and_the_node_ready(
    k8s_cluster: K8sCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHIPRAIL_STATE_DIR", str(k8s_cluster.state))
    result = runner.invoke(app, ["k8s", "cluster", "status", "--json"])
    assert result.exit_code == 0, result.output
    status = json.loads(result.stdout)
    assert status["node_ready"] is True and status["kubeconfig"] == str(k8s_cluster.kubeconfig)
    names = [c["name"] for c in status["components"]]
    assert names == ["etcd", "containerd", "kube-apiserver", "kube-controller-manager",
                     "kube-scheduler", "kubelet", "kube-proxy"]  # fmt: skip
    assert all(c["healthy"] and c["pid"] for c in status["components"])
    nodes = json.loads(k8s_cluster.kubectl("get", "nodes", "-o", "json").stdout)["items"]
    assert nodes[0]["status"]["nodeInfo"]["kubeletVersion"] == "v1.34.2"


def test_a_restricted_pod_runs_and_its_service_answers_from_the_host(
    k8s_cluster: K8sCluster, workorders_image: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHIPRAIL_STATE_DIR", str(k8s_cluster.state))
    imported = runner.invoke(app, ["k8s", "cluster", "import", workorders_image])
    assert imported.exit_code == 0, imported.output
    image = workorders_image
    kubectl = k8s_cluster.kubectl
    kubectl("delete", "namespace", NAMESPACE, "--ignore-not-found", "--wait=true")
    kubectl("create", "namespace", NAMESPACE)
    kubectl("label", "namespace", NAMESPACE, "pod-security.kubernetes.io/enforce=restricted")
    refused = kubectl("-n", NAMESPACE, "apply", "-f", "-", input_text=ROOT_POD, ok_codes=None)
    assert refused.returncode != 0 and 'violates PodSecurity "restricted' in refused.stderr
    kubectl("-n", NAMESPACE, "apply", "-f", "-", input_text=RESTRICTED_POD.format(image=image))
    kubectl("-n", NAMESPACE, "wait", "--for=condition=Ready", "pod/web",
            f"--timeout={WAIT_SECONDS}s")  # fmt: skip
    cluster_ip = kubectl("-n", NAMESPACE, "get", "service", "web",
                         "-o", "jsonpath={.spec.clusterIP}").stdout  # fmt: skip
    deadline, answer = time.monotonic() + 30, ""
    while time.monotonic() < deadline and not answer:
        try:
            answer = _get(f"http://{cluster_ip}/hostname")  # kube-proxy syncs within seconds
        except OSError:
            time.sleep(0.5)
    assert answer.strip() == "web"
    kubectl("delete", "namespace", NAMESPACE, "--wait=false")


#: What the cluster runs: its components and the containerd shims of its pods. Clients that
#: merely name its kubeconfig (kubectl, helm) are not the cluster's.
CLUSTER_PROCESSES = {
    "etcd", "containerd", "kube-apiserver", "kube-controller-manager", "kube-scheduler",
    "kubelet", "kube-proxy", "containerd-shim-runc-v2",
}  # fmt: skip


def _our_processes(state: Path) -> list[str]:
    """Command lines of the cluster's processes (they name its state directory)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                argv = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            cmdline = b" ".join(argv).decode(errors="replace")
            if (
                os.path.basename(argv[0].decode()) in CLUSTER_PROCESSES
                and str(state / "k8s") in cmdline
            ):
                found.append(cmdline)
    return found


def test_down_leaves_nothing_behind_and_up_comes_back(
    k8s_cluster: K8sCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The commands docs/kubernetes-local.md shows, as a user runs them."""
    cluster = k8s_cluster.cluster
    monkeypatch.setenv("SHIPRAIL_STATE_DIR", str(cluster.state))
    assert _our_processes(cluster.state)
    down = runner.invoke(app, ["k8s", "cluster", "down"])
    assert down.exit_code == 0 and "cluster down" in down.stderr, down.output
    assert _our_processes(cluster.state) == []
    assert cleanup.mounts_under(cluster.layout.root) == []
    assert not Path("/sys/class/net", CNI_BRIDGE).exists()
    assert not any(cleanup.is_ours(n.name) for n in Path("/run/netns").glob("cni-*"))
    stopped = runner.invoke(app, ["k8s", "cluster", "status"])
    assert stopped.exit_code == 1 and "NotReady" in stopped.stderr
    up = runner.invoke(app, ["k8s", "cluster", "up"])  # the session's other tests keep theirs
    assert up.exit_code == 0 and "node" in up.stderr and "Ready" in up.stderr, up.output
