"""A real single-node Kubernetes cluster on this machine, built from upstream sources.

``shiprail k8s cluster up`` runs etcd, kube-apiserver, kube-controller-manager,
kube-scheduler, a containerd of its own, the kubelet and kube-proxy as plain processes (no
systemd, no container images to pull), so the Helm chart can be installed and its pods run
the way they would on EKS or AKS. One module per concern:

    layout.py      where everything lives (``<state>/k8s``), versions, addresses
    pki.py         component certificates from the local CA, kubeconfigs
    configs.py     containerd, kubelet, kube-proxy and CNI configuration (and why pods run)
    components.py  the command line and health probe of each process
    processes.py   start detached, record pids, probe, stop
    images.py      the local pause image; images from the Docker Engine
    network.py     forwarding, FORWARD rules, iptables and bridge clean-up
    cleanup.py     containers, shims, mounts and network namespaces on ``down``
    lifecycle.py   up / down / status
"""

from pathlib import Path

from shiprail.kubernetes.cluster.images import import_from_docker
from shiprail.kubernetes.cluster.layout import Layout
from shiprail.kubernetes.cluster.lifecycle import ClusterStatus, ComponentStatus, LocalCluster

__all__ = ["ClusterStatus", "ComponentStatus", "LocalCluster", "load_image"]


def load_image(root: Path, reference: str) -> str:
    """Copy ``reference`` from the Docker Engine into the cluster whose state is ``root``
    (``<state>/k8s``); returns the reference pods name it by."""
    return import_from_docker(Layout(root), reference)
