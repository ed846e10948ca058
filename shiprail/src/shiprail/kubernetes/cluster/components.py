"""The command line of every component, in start order, and the probe that says it is up.

Everything listens on 127.0.0.1 except the kubelet's API (the node IP, x509 + webhook auth, so
the API server can fetch logs) and the pods' own addresses. etcd speaks plain HTTP on
loopback: only processes on this machine can reach it, and it holds no data worth more than
the machine's root account already reaches.

The API server authenticates by client certificate only (no token file, no anonymous
requests), authorizes with Node + RBAC, and admits with NodeRestriction + PodSecurity. Its
secure port binds 127.0.0.1, so the ``kubernetes`` Service has no endpoints
(``--endpoint-reconciler-type=none``): pods cannot call the API, which the services shipped
here do not need.
"""

from __future__ import annotations

from pathlib import Path

from shiprail.kubernetes.cluster import configs
from shiprail.kubernetes.cluster.layout import (
    APISERVER_PORT,
    ETCD_CLIENT_PORT,
    ETCD_PEER_PORT,
    LOOPBACK,
    SERVICE_CIDR,
    Layout,
)
from shiprail.kubernetes.cluster.pki import Pki
from shiprail.kubernetes.cluster.processes import (
    Component,
    api_probe,
    http_probe,
    tcp_probe,
    unix_probe,
)

CONTROLLER_MANAGER_PORT = 10257
SCHEDULER_PORT = 10259
APISERVER_URL = f"https://{LOOPBACK}:{APISERVER_PORT}"


def etcd(layout: Layout) -> Component:
    client = f"http://{LOOPBACK}:{ETCD_CLIENT_PORT}"
    peer = f"http://{LOOPBACK}:{ETCD_PEER_PORT}"
    argv = (
        "etcd", "--name=shiprail", f"--data-dir={layout.etcd_data}",
        f"--listen-client-urls={client}", f"--advertise-client-urls={client}",
        f"--listen-peer-urls={peer}", f"--initial-advertise-peer-urls={peer}",
        f"--initial-cluster=shiprail={peer}",
    )  # fmt: skip
    return Component("etcd", argv, http_probe(f"{client}/health"))


def containerd(layout: Layout) -> Component:
    argv = ("containerd", "--config", str(layout.config / "containerd.toml"))
    return Component("containerd", argv, unix_probe(layout.containerd_socket))


def kube_apiserver(layout: Layout, pki: Pki, bin_dir: Path, node_ip: str) -> Component:
    argv = (
        str(bin_dir / "kube-apiserver"),
        f"--etcd-servers=http://{LOOPBACK}:{ETCD_CLIENT_PORT}",
        f"--bind-address={LOOPBACK}", f"--secure-port={APISERVER_PORT}",
        f"--advertise-address={node_ip}", "--endpoint-reconciler-type=none",
        "--anonymous-auth=false", "--profiling=false",
        f"--client-ca-file={pki.ca_cert}",
        f"--tls-cert-file={pki.cert('kube-apiserver')}",
        f"--tls-private-key-file={pki.key('kube-apiserver')}",
        f"--kubelet-client-certificate={pki.cert('apiserver-kubelet-client')}",
        f"--kubelet-client-key={pki.key('apiserver-kubelet-client')}",
        f"--kubelet-certificate-authority={pki.ca_cert}",
        "--kubelet-preferred-address-types=InternalIP",
        f"--service-account-key-file={pki.sa_pub}",
        f"--service-account-signing-key-file={pki.sa_key}",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        f"--service-cluster-ip-range={SERVICE_CIDR}",
        "--authorization-mode=Node,RBAC",
        "--enable-admission-plugins=NodeRestriction,PodSecurity",
    )  # fmt: skip
    probe = api_probe(f"{APISERVER_URL}/readyz", pki.ca_cert, pki.cert("admin"), pki.key("admin"))
    return Component("kube-apiserver", argv, probe)


def kube_controller_manager(layout: Layout, pki: Pki, bin_dir: Path) -> Component:
    kubeconfig = layout.config / "kube-controller-manager.kubeconfig"
    argv = (
        str(bin_dir / "kube-controller-manager"),
        f"--kubeconfig={kubeconfig}", f"--authentication-kubeconfig={kubeconfig}",
        f"--authorization-kubeconfig={kubeconfig}",
        f"--bind-address={LOOPBACK}", "--leader-elect=false", "--profiling=false",
        f"--service-account-private-key-file={pki.sa_key}",
        f"--root-ca-file={pki.ca_cert}", "--use-service-account-credentials=true",
        f"--service-cluster-ip-range={SERVICE_CIDR}",
    )  # fmt: skip
    return Component("kube-controller-manager", argv, tcp_probe(CONTROLLER_MANAGER_PORT))


def kube_scheduler(layout: Layout, bin_dir: Path) -> Component:
    kubeconfig = layout.config / "kube-scheduler.kubeconfig"
    argv = (
        str(bin_dir / "kube-scheduler"),
        f"--kubeconfig={kubeconfig}", f"--authentication-kubeconfig={kubeconfig}",
        f"--authorization-kubeconfig={kubeconfig}",
        f"--bind-address={LOOPBACK}", "--leader-elect=false", "--profiling=false",
    )  # fmt: skip
    return Component("kube-scheduler", argv, tcp_probe(SCHEDULER_PORT))


def kubelet(layout: Layout, bin_dir: Path, node: str, node_ip: str) -> Component:
    argv = (
        str(bin_dir / "kubelet"),
        f"--config={layout.config / 'kubelet.yaml'}",
        f"--kubeconfig={layout.config / 'kubelet.kubeconfig'}",
        f"--root-dir={layout.kubelet_root}",
        f"--hostname-override={node}", f"--node-ip={node_ip}",
        # a zone like a cloud node's, so a chart spreading over zones schedules here too
        "--node-labels=topology.kubernetes.io/region=local,topology.kubernetes.io/zone=local",
    )  # fmt: skip
    healthz = f"http://{LOOPBACK}:{configs.KUBELET_HEALTHZ_PORT}/healthz"
    return Component("kubelet", argv, http_probe(healthz))


def kube_proxy(layout: Layout, bin_dir: Path) -> Component:
    argv = (str(bin_dir / "kube-proxy"), f"--config={layout.config / 'kube-proxy.yaml'}")
    livez = f"http://{LOOPBACK}:{configs.KUBE_PROXY_HEALTHZ_PORT}/livez"
    return Component("kube-proxy", argv, http_probe(livez))


def all_components(
    layout: Layout, pki: Pki, bin_dir: Path, node: str, node_ip: str
) -> list[Component]:
    """Start order; ``down`` stops them in reverse."""
    return [
        etcd(layout),
        containerd(layout),
        kube_apiserver(layout, pki, bin_dir, node_ip),
        kube_controller_manager(layout, pki, bin_dir),
        kube_scheduler(layout, bin_dir),
        kubelet(layout, bin_dir, node, node_ip),
        kube_proxy(layout, bin_dir),
    ]
