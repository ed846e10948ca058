"""The configuration files of containerd, the kubelet, kube-proxy and the CNI network.

Two settings here are what make pods run on a machine like the one shiprail is developed on
(a VM whose root lacks ``CAP_SYS_RESOURCE`` in its bounding set):

* The kubelet asks for ``oom_score_adj`` -998 for every pod sandbox (and -997 for Guaranteed
  containers). Lowering a process's OOM score needs ``CAP_SYS_RESOURCE``; runc 1.1 writes
  the value from its C ``nsexec`` stage, which dies on the EACCES before handing its child's
  pid back, and runc reports only "can't get final child's PID from pipe: EOF". ``ctr run``
  asks for no OOM score, which is why the same image ran there. containerd's
  ``restrict_oom_score_adj`` clamps every requested score to no lower than containerd's own
  (0 here), the setting rootless and nested runtimes use; the kubelet and kube-proxy are told
  not to lower their own scores either (``oomScoreAdj: 0``).
* ``SystemdCgroup = false`` with the kubelet's ``cgroupDriver: cgroupfs``: no systemd runs.

Files are JSON (valid YAML) so no YAML writer is needed; containerd's is TOML, written by hand
from quoted values.
"""

from __future__ import annotations

import json
from pathlib import Path

from shiprail.kubernetes.cluster.layout import (
    CNI_BRIDGE,
    CNI_NETWORK,
    LOOPBACK,
    PAUSE_IMAGE,
    POD_CIDR,
    Layout,
)
from shiprail.kubernetes.cluster.pki import Pki

CNI_BIN_DIR = Path("/usr/lib/cni")
KUBELET_HEALTHZ_PORT = 10248
KUBE_PROXY_HEALTHZ_PORT = 10256


def _toml(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string


def containerd_config(layout: Layout) -> str:
    """containerd 1.6 with its own root, state and socket (the Docker Engine's containerd is
    left alone), the CRI plugin on, cgroupfs, the local pause image, and OOM scores clamped."""
    cri = 'plugins."io.containerd.grpc.v1.cri"'
    return f"""version = 2
root = {_toml(str(layout.containerd_root))}
state = {_toml(str(layout.containerd_state))}
oom_score = 0
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]

[grpc]
  address = {_toml(str(layout.containerd_socket))}

[ttrpc]
  address = {_toml(str(layout.containerd_socket) + ".ttrpc")}

[{cri}]
  sandbox_image = {_toml(PAUSE_IMAGE)}
  stream_server_address = "{LOOPBACK}"
  restrict_oom_score_adj = true
  enable_selinux = false

[{cri}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

[{cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[{cri}.containerd.runtimes.runc.options]
  SystemdCgroup = false

[{cri}.cni]
  bin_dir = {_toml(str(CNI_BIN_DIR))}
  conf_dir = {_toml(str(layout.cni_conf))}
"""


def cni_config(layout: Layout) -> dict[str, object]:
    """One bridge network for the node's pods, NAT to the outside, leases kept under the
    state directory. The bridge plugin enforces no NetworkPolicy (see docs)."""
    return {
        "cniVersion": "1.0.0",
        "name": CNI_NETWORK,
        "plugins": [
            {
                "type": "bridge",
                "bridge": CNI_BRIDGE,
                "isGateway": True,
                "ipMasq": True,
                "hairpinMode": True,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{"subnet": POD_CIDR}]],
                    "routes": [{"dst": "0.0.0.0/0"}],
                    "dataDir": str(layout.cni_ipam),
                },
            },
            {"type": "portmap", "capabilities": {"portMappings": True}},
        ],
    }


def kubelet_config(layout: Layout, pki: Pki, node_ip: str) -> dict[str, object]:
    """The kubelet: cgroupfs, swap tolerated, x509 + webhook auth on its API, its serving
    certificate from the local CA, image GC off (imported images cannot be pulled again)."""
    return {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "address": node_ip,
        "readOnlyPort": 0,
        "healthzBindAddress": LOOPBACK,
        "healthzPort": KUBELET_HEALTHZ_PORT,
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"enabled": True},
            "x509": {"clientCAFile": str(pki.ca_cert)},
        },
        "authorization": {"mode": "Webhook"},
        "tlsCertFile": str(pki.cert("kubelet-serving")),
        "tlsPrivateKeyFile": str(pki.key("kubelet-serving")),
        "cgroupDriver": "cgroupfs",
        "containerRuntimeEndpoint": f"unix://{layout.containerd_socket}",
        "failSwapOn": False,
        "oomScoreAdj": 0,
        "imageGCHighThresholdPercent": 100,
        "imageGCLowThresholdPercent": 99,
        "evictionHard": {
            "memory.available": "100Mi",
            "nodefs.available": "1%",
            "imagefs.available": "1%",
            "nodefs.inodesFree": "1%",
        },
        "podLogsDir": str(layout.pod_logs),
        "resolvConf": "/etc/resolv.conf",
        "serializeImagePulls": False,
        "rotateCertificates": False,
    }


def kube_proxy_config(layout: Layout, node: str) -> dict[str, object]:
    """kube-proxy in iptables mode; conntrack sysctls left as the machine has them (a VM
    may refuse to change them) and its own OOM score left alone."""
    return {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        "clientConnection": {"kubeconfig": str(layout.config / "kube-proxy.kubeconfig")},
        "mode": "iptables",
        "clusterCIDR": POD_CIDR,
        "hostnameOverride": node,
        "healthzBindAddress": f"{LOOPBACK}:{KUBE_PROXY_HEALTHZ_PORT}",
        "metricsBindAddress": f"{LOOPBACK}:10249",
        "oomScoreAdj": 0,
        "nodePortAddresses": ["primary"],
        "conntrack": {
            "maxPerCore": 0,
            "min": 0,
            "tcpEstablishedTimeout": "0s",
            "tcpCloseWaitTimeout": "0s",
        },
    }


def write_if_changed(path: Path, text: str) -> None:
    """Write only a changed file: kube-proxy watches its configuration and exits when the
    file is written, even with the same content."""
    if not path.is_file() or path.read_text() != text:
        path.write_text(text)


def write_all(layout: Layout, pki: Pki, node: str, node_ip: str) -> None:
    """Write every file that changed (a new node IP is picked up on the next ``up``)."""
    layout.cni_conf.mkdir(parents=True, exist_ok=True)
    layout.pod_logs.mkdir(parents=True, exist_ok=True)
    write_if_changed(layout.config / "containerd.toml", containerd_config(layout))
    write_if_changed(
        layout.cni_conf / "10-shiprail.conflist", json.dumps(cni_config(layout), indent=2) + "\n"
    )
    write_if_changed(
        layout.config / "kubelet.yaml",
        json.dumps(kubelet_config(layout, pki, node_ip), indent=2) + "\n",
    )
    write_if_changed(
        layout.config / "kube-proxy.yaml",
        json.dumps(kube_proxy_config(layout, node), indent=2) + "\n",
    )
