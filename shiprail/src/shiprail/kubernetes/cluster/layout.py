"""Where the local cluster lives and the fixed facts every component agrees on.

Everything is under ``<state>/k8s/`` (``.shiprail/k8s/`` by default) so ``down`` knows exactly
what to stop, unmount and delete, and nothing is written to ``/etc`` or ``/var/lib``:

    kubeconfig        the admin kubeconfig (client certificate, group system:masters)
    pki/              certificates and keys of every component, service-account key pair
    config/           containerd.toml, kubelet.yaml, kube-proxy.yaml, kubeconfigs
    cni/net.d/        the CNI bridge network; cni/ipam/ the host-local address leases
    etcd/             etcd's data; containerd/ (root, state, socket); kubelet/ (root dir)
    logs/<name>.log   one log per component
    processes.json    the pid and executable of each running component
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

from shiprail.errors import ConfigError, ToolMissing
from shiprail.paths import TOOLS_LOCK, platform_home

#: The components built from Kubernetes sources, in start order (see scripts/install-tools.sh).
K8S_BINARIES = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet")
PROXY_BINARY = "kube-proxy"
PAUSE_BINARY = "pause"
INSTALL_HINT = "scripts/install-tools.sh kubernetes"

ETCD_CLIENT_PORT = 23790
ETCD_PEER_PORT = 23800
APISERVER_PORT = 6443
LOOPBACK = "127.0.0.1"
SERVICE_CIDR = "10.96.0.0/16"
#: The first address of the service range: the ``kubernetes`` Service's ClusterIP.
KUBERNETES_SERVICE_IP = "10.96.0.1"
POD_CIDR = "10.244.0.0/24"
POD_GATEWAY = "10.244.0.1"
CNI_NETWORK = "shiprail"
CNI_BRIDGE = "shiprail0"
#: The local pause image: a static binary that waits for a signal (no registry to pull from).
PAUSE_IMAGE = "shiprail.local/pause:3.10"
CONTAINERD_NAMESPACE = "k8s.io"


def kubernetes_version(lock: Path | None = None) -> str:
    """The Kubernetes version pinned in ``tools.lock`` (its line of kind ``k8s``)."""
    path = lock or platform_home() / TOOLS_LOCK
    for raw in path.read_text().splitlines() if path.is_file() else []:
        fields = raw.split("#", 1)[0].split()
        if len(fields) == 6 and fields[1] == "k8s":
            return fields[2]
    raise ConfigError(
        "tools.lock pins no Kubernetes version (a line of kind k8s)",
        path=str(path),
        hint="add: kubernetes k8s v1.34.2 k8s.io/kubernetes kube-apiserver optional",
    )


def binaries_dir(version: str | None = None) -> Path:
    """``.tools/k8s/<version>/bin`` of the shiprail checkout, where install-tools builds them."""
    return platform_home() / ".tools" / "k8s" / (version or kubernetes_version()) / "bin"


def require_binaries(directory: Path) -> None:
    """Every Kubernetes component and the pause binary must be built, else ToolMissing."""
    for name in (*K8S_BINARIES, PROXY_BINARY, PAUSE_BINARY):
        if not (directory / name).is_file():
            raise ToolMissing(f"{name} (looked in {directory})", INSTALL_HINT)


def node_ip() -> str:
    """The address of the default route's interface: what the node registers as InternalIP
    and how pods reach services on the host (PostgreSQL, the registry)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("198.51.100.1", 9))  # no packet is sent: UDP connect only picks a route
        address: str = probe.getsockname()[0]
    return address


def node_name() -> str:
    """Kubernetes node names are lower-case DNS labels; the hostname, lower-cased."""
    return socket.gethostname().split(".", 1)[0].lower()


@dataclass(frozen=True)
class Layout:
    """The paths of one local cluster under ``root`` (``<state>/k8s``)."""

    root: Path

    @property
    def kubeconfig(self) -> Path:
        return self.root / "kubeconfig"

    @property
    def pki(self) -> Path:
        return self.root / "pki"

    @property
    def config(self) -> Path:
        return self.root / "config"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def processes(self) -> Path:
        return self.root / "processes.json"

    @property
    def etcd_data(self) -> Path:
        return self.root / "etcd"

    @property
    def containerd_root(self) -> Path:
        return self.root / "containerd" / "root"

    @property
    def containerd_state(self) -> Path:
        return self.root / "containerd" / "state"

    @property
    def containerd_socket(self) -> Path:
        return self.root / "containerd" / "containerd.sock"

    @property
    def kubelet_root(self) -> Path:
        return self.root / "kubelet"

    @property
    def pod_logs(self) -> Path:
        return self.root / "pod-logs"

    @property
    def cni_conf(self) -> Path:
        return self.root / "cni" / "net.d"

    @property
    def cni_ipam(self) -> Path:
        return self.root / "cni" / "ipam"

    @property
    def images(self) -> Path:
        return self.root / "images"

    def log(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    def make_dirs(self) -> None:
        for directory in (self.root, self.pki, self.config, self.logs, self.cni_conf):
            directory.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o700)
