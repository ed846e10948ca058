"""``up``, ``down`` and ``status`` of the local single-node cluster.

``up`` is idempotent: every component whose recorded process still runs is left alone, a
dead one is started again, and when all run it only re-checks the node (well under a second).
``down`` stops everything in reverse order and removes what the cluster left on the host
(cleanup.py, network.py); the state directory itself (certificates, etcd data, imported
images) is kept so the next ``up`` is fast.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from shiprail import _subprocess
from shiprail.errors import ToolCrashed, ToolMissing, UsageError
from shiprail.kubernetes.cluster import cleanup, configs, images, network
from shiprail.kubernetes.cluster.components import APISERVER_URL, all_components
from shiprail.kubernetes.cluster.layout import (
    CNI_NETWORK,
    KUBERNETES_SERVICE_IP,
    PAUSE_BINARY,
    PROXY_BINARY,
    Layout,
    binaries_dir,
    node_ip,
    node_name,
    require_binaries,
)
from shiprail.kubernetes.cluster.pki import Pki, cluster_specs, ensure_pki, write_kubeconfig
from shiprail.kubernetes.cluster.processes import (
    Component,
    ProcessTable,
    client_context,
    start,
    stop,
)

NODE_READY_TIMEOUT_SECONDS = 120.0
HOST_TOOLS = {
    "etcd": "apt-get install -y etcd-server",
    "containerd": "apt-get install -y containerd",
    "runc": "apt-get install -y runc",
    "ctr": "apt-get install -y containerd",
    "iptables": "apt-get install -y iptables",
    "conntrack": "apt-get install -y conntrack",
}
KUBECONFIG_USERS = ("kube-controller-manager", "kube-scheduler", "kube-proxy")


@dataclass(frozen=True)
class ComponentStatus:
    name: str
    pid: int | None
    healthy: bool


@dataclass(frozen=True)
class ClusterStatus:
    components: list[ComponentStatus]
    node: str
    node_ready: bool
    kubeconfig: Path
    started: list[str] = field(default_factory=list)

    @property
    def up(self) -> bool:
        return self.node_ready and all(c.healthy for c in self.components)

    def as_dict(self) -> dict[str, object]:
        return {
            "up": self.up,
            "node": self.node,
            "node_ready": self.node_ready,
            "kubeconfig": str(self.kubeconfig),
            "components": [
                {"name": c.name, "pid": c.pid, "healthy": c.healthy} for c in self.components
            ],
            "started": self.started,
        }


class LocalCluster:
    """One cluster under ``state/k8s`` using the binaries in ``bin_dir``."""

    def __init__(self, state: Path, bin_dir: Path | None = None) -> None:
        self.state = state
        self.layout = Layout(state / "k8s")
        self.bin_dir = bin_dir or binaries_dir()
        self.table = ProcessTable(self.layout.processes)
        self.node = node_name()

    @property
    def kubeconfig(self) -> Path:
        return self.layout.kubeconfig

    def _pki(self) -> Pki:
        return Pki(self.layout.pki, self.state / "edge" / "ca")

    def _components(self, ip: str) -> list[Component]:
        return all_components(self.layout, self._pki(), self.bin_dir, self.node, ip)

    # -- up ------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """One ``up`` or ``down`` at a time: two racing would both start etcd, and the pid
        table would name only one of them."""
        self.layout.root.mkdir(parents=True, exist_ok=True)
        with (self.layout.root / "lock").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def up(self) -> ClusterStatus:
        """Start whatever is not running, then wait for the node to be Ready."""
        _require_root("start", "up")
        with self._locked():
            return self._up()

    def _up(self) -> ClusterStatus:
        require_binaries(self.bin_dir)
        for tool, hint in HOST_TOOLS.items():
            if _subprocess.which(tool) is None:
                raise ToolMissing(tool, hint)
        ip = node_ip()
        self._prepare(ip)
        started = []
        for component in self._components(ip):
            if self.table.running_pid(component.name) is None:
                start(component, self.table, self.layout.log(component.name))
                started.append(component.name)
            if component.name == "containerd":
                images.ensure_pause_image(self.layout, self.bin_dir / PAUSE_BINARY)
        network.prepare_host()
        self._wait_node_ready()
        return self.status(started)

    def _prepare(self, ip: str) -> None:
        """Directories, certificates, kubeconfigs and config files (cheap when current)."""
        self.layout.make_dirs()
        specs = cluster_specs(self.node, ip, KUBERNETES_SERVICE_IP)
        pki = ensure_pki(self.layout.pki, self.state / "edge" / "ca", specs)
        write_kubeconfig(self.layout.kubeconfig, pki, "admin", APISERVER_URL)
        for user in KUBECONFIG_USERS:
            write_kubeconfig(self.layout.config / f"{user}.kubeconfig", pki, user, APISERVER_URL)
        write_kubeconfig(
            self.layout.config / "kubelet.kubeconfig", pki, "kubelet-client", APISERVER_URL
        )
        configs.write_all(self.layout, pki, self.node, ip)

    def _wait_node_ready(self) -> None:
        deadline = time.monotonic() + NODE_READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.node_ready():
                return
            time.sleep(1.0)
        raise ToolCrashed(
            f"node {self.node} did not become Ready within {NODE_READY_TIMEOUT_SECONDS:.0f}s",
            hint=f"see {self.layout.log('kubelet')}",
        )

    # -- status ----------------------------------------------------------------------------

    def api_get(self, path: str) -> dict[str, object] | None:
        """GET from the API server as the administrator; None when it does not answer."""
        pki = self._pki()
        if not pki.cert("admin").is_file():
            return None
        try:
            context = client_context(pki.ca_cert, pki.cert("admin"), pki.key("admin"))
            with urllib.request.urlopen(  # noqa: S310 - the loopback API server  # nosec B310
                APISERVER_URL + path, timeout=5, context=context
            ) as response:
                data = json.loads(response.read())
        except (OSError, urllib.error.URLError, ValueError, ssl.SSLError):
            return None
        return data if isinstance(data, dict) else None

    def node_ready(self) -> bool:
        node = self.api_get(f"/api/v1/nodes/{self.node}")
        status = node.get("status") if node else None
        conditions = status.get("conditions", []) if isinstance(status, dict) else []
        return any(
            c.get("type") == "Ready" and c.get("status") == "True"
            for c in conditions
            if isinstance(c, dict)
        )

    def status(self, started: list[str] | None = None) -> ClusterStatus:
        """Each component's pid and health, and the node's Ready condition."""
        ip = node_ip()
        rows = []
        for component in self._components(ip):
            pid = self.table.running_pid(component.name)
            rows.append(ComponentStatus(component.name, pid, pid is not None and component.probe()))
        ready = rows[2].healthy and self.node_ready()
        return ClusterStatus(rows, self.node, ready, self.layout.kubeconfig, started or [])

    def import_image(self, reference: str) -> str:
        """Copy an image from the Docker Engine into this cluster (images.py says how)."""
        _require_root("import images into", "import IMAGE")
        if self.table.running_pid("containerd") is None:
            raise UsageError(
                "the local cluster is not running", hint="start it: shiprail k8s cluster up"
            )
        return images.import_from_docker(self.layout, reference)

    # -- down ------------------------------------------------------------------------------

    def down(self) -> list[str]:
        """Stop every process, delete containers, unmount, remove network leftovers; returns
        what was done, line by line."""
        _require_root("stop", "down")
        with self._locked():
            return self._down()

    def _down(self) -> list[str]:
        done = []
        components = [c.name for c in self._components(node_ip())]
        for name in ("kube-proxy", "kubelet"):
            if stop(name, self.table):
                done.append(f"stopped {name}")
        deleted = cleanup.delete_containers(self.layout)
        if deleted:
            done.append(f"deleted {deleted} container(s)")
        for name in reversed(components):
            if name not in ("kube-proxy", "kubelet") and stop(name, self.table):
                done.append(f"stopped {name}")
        binaries = [os.path.basename(c.argv[0]) for c in self._components(node_ip())]
        done += [f"stopped stray {p}" for p in cleanup.stop_strays(self.layout, binaries)]
        if shims := cleanup.stop_shims(self.layout):
            done.append(f"stopped {shims} leftover shim(s)")
        done += [f"unmounted {p}" for p in cleanup.unmount_all(self.layout.root)]
        done += [f"removed netns {n}" for n in cleanup.remove_pod_netns()]
        done += [f"removed {r}" for r in network.clean_iptables(self.bin_dir / PROXY_BINARY)]
        if network.delete_bridge():
            done.append("removed the pod bridge")
        cleanup.remove_cni_state(self.layout, CNI_NETWORK)
        return done


def _require_root(action: str, command: str) -> None:
    if os.geteuid() != 0:
        raise UsageError(
            f"only root can {action} the local Kubernetes cluster: the kubelet, containerd "
            "and kube-proxy manage cgroups, mounts, network namespaces and iptables",
            hint=f"run it as root: sudo shiprail k8s cluster {command}",
        )
