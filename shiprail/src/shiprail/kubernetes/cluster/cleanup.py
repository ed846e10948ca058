"""What ``down`` takes away besides the processes: containers, shims, mounts, namespaces.

Order matters. Containers are killed and deleted through the cluster's containerd while it
still runs (their shims then exit by themselves); a shim left behind is found by the
``-address`` of *this* containerd on its command line and stopped by pid. Mounts are read from
``/proc/self/mountinfo`` and only those under the cluster's state directory (overlay rootfs,
sandbox ``/dev/shm``, secret and projected volumes under the kubelet's root) or the pod network
namespaces holding this cluster's pod addresses are unmounted, deepest first; nothing of the
Docker Engine's is touched.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
from pathlib import Path

from shiprail import _subprocess
from shiprail.errors import ShiprailError
from shiprail.kubernetes.cluster.images import ctr
from shiprail.kubernetes.cluster.layout import POD_CIDR, Layout
from shiprail.kubernetes.cluster.processes import terminate

NETNS_DIR = Path("/run/netns")
SHIM = "containerd-shim"


def delete_containers(layout: Layout) -> int:
    """Kill and delete every task and container of the Kubernetes namespace."""
    try:
        tasks = ctr(layout, "tasks", "ls", "-q").stdout.split()
        for task in tasks:
            ctr(layout, "tasks", "delete", "--force", task, timeout=60)
        containers = ctr(layout, "containers", "ls", "-q").stdout.split()
        if containers:
            ctr(layout, "containers", "delete", *containers, timeout=120)
    except ShiprailError:
        return 0  # containerd is not running: the shim and mount sweeps below still apply
    return len(containers)


def stop_shims(layout: Layout) -> int:
    """Stop any containerd shim serving this cluster's containerd (found by its address)."""
    address = str(layout.containerd_socket).encode()
    stopped = 0
    for pid, name, argv in _processes():
        if SHIM in name and address in argv:
            terminate(pid, grace=2.0)
            stopped += 1
    return stopped


def _processes() -> list[tuple[int, str, list[bytes]]]:
    """(pid, executable name, argv) of every process, skipping those gone meanwhile."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and argv[0]:
            found.append(
                (int(entry.name), os.path.basename(argv[0].decode(errors="replace")), argv)
            )
    return found


def stop_strays(layout: Layout, names: list[str]) -> list[str]:
    """Stop component processes of this cluster the pid table does not know (a second ``up``
    racing the first, a lost ``processes.json``): named like a component and started with
    a path under the cluster's state directory on their command line."""
    root = str(layout.root).encode()
    stopped = []
    for pid, name, argv in _processes():
        if name in names and any(root in arg for arg in argv[1:]):
            terminate(pid, grace=10.0)
            stopped.append(f"{name} ({pid})")
    return stopped


def mounts_under(root: Path) -> list[str]:
    """Mount points below ``root``, deepest first (mountinfo's field 5, octal-escaped)."""
    prefix = str(root.resolve()) + "/"
    points = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4].encode().decode("unicode_escape")
        if point.startswith(prefix):
            points.append(point)
    return sorted(set(points), key=lambda p: p.count("/"), reverse=True)


def unmount_all(root: Path) -> list[str]:
    """Unmount everything below ``root`` (lazily when busy); returns what was unmounted."""
    done = []
    for point in mounts_under(root):
        result = _subprocess.run(["umount", point], timeout=30, ok_codes=None)
        if result.returncode != 0:
            _subprocess.run(["umount", "-l", point], timeout=30, ok_codes=None)
        done.append(point)
    return done


def is_ours(namespace: str) -> bool:
    """A pod network namespace of this cluster: it holds an address of the pod range, or no
    address at all (a sandbox whose network was never set up)."""
    result = _subprocess.run(["ip", "-n", namespace, "-o", "-4", "addr"], timeout=30, ok_codes=None)
    network = ipaddress.ip_network(POD_CIDR)
    addresses = [
        ipaddress.ip_interface(field).ip
        for line in result.stdout.splitlines()
        for field in line.split()
        if "/" in field and field[0].isdigit()
    ]
    outside = [a for a in addresses if not a.is_loopback]
    return not outside or any(a in network for a in outside)


def remove_pod_netns() -> list[str]:
    """Unmount and remove the CNI network namespaces (``cni-…``) of this cluster's pods."""
    removed = []
    for path in sorted(NETNS_DIR.glob("cni-*")) if NETNS_DIR.is_dir() else []:
        if not is_ours(path.name):
            continue
        _subprocess.run(["umount", str(path)], timeout=30, ok_codes=None)
        with contextlib.suppress(OSError):
            path.unlink()
        removed.append(path.name)
    return removed


def remove_cni_state(layout: Layout, network: str) -> None:
    """The address leases (under the state directory) and libcni's cached results."""
    for lease in layout.cni_ipam.glob(f"{network}/*"):
        with contextlib.suppress(OSError):
            lease.unlink()
    for cached in Path("/var/lib/cni/results").glob(f"{network}-*"):
        with contextlib.suppress(OSError):
            cached.unlink()
