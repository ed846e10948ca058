"""A Docker Engine of the fault matrix's own, so restarting it never disturbs the rest of the
suite: its own ``--data-root``, ``--exec-root``, unix socket, pid file and containerd, a
default bridge of its own and address pools of its own. (Not ``--bridge=none``: a daemon
started that way deletes the host's ``docker0``, the main engine's default bridge.)

It leaves iptables to the main engine (``--iptables=false``: a second daemon managing the
same DOCKER chains would flush the first one's rules on start). Containers on its networks
talk to each other through one ACCEPT rule for its pool in FORWARD, added on start and
removed on close; the host reaches published ports through docker-proxy on loopback.
"""

from __future__ import annotations

import contextlib
import ipaddress
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import docker

#: Candidate address pools; the first one no route of the host overlaps is used.
POOLS = ("10.231.0.0/16", "10.232.0.0/16", "10.233.0.0/16", "10.234.0.0/16")
READY_SECONDS = 60.0
STOP_SECONDS = 60.0


def _free_pool() -> str:
    routes = subprocess.run(["ip", "-4", "route"], capture_output=True, text=True).stdout
    used = []
    for line in routes.splitlines():
        first = line.split()[0] if line.split() else ""
        with contextlib.suppress(ValueError):
            used.append(ipaddress.ip_network(first, strict=False))
    for pool in POOLS:
        net = ipaddress.ip_network(pool)
        if not any(net.overlaps(u) for u in used if u.prefixlen > 0):
            return pool
    raise RuntimeError(f"every candidate address pool overlaps a route: {POOLS}")


class PrivateDocker:
    """``dockerd`` under ``root``; :meth:`restart` is the "Docker daemon restart" fault."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.pool = _free_pool()
        self.socket = root / "d.sock"
        self.log = root / "dockerd.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._client: Any = None
        self._rule = ["FORWARD", "-s", self.pool, "-d", self.pool, "-j", "ACCEPT"]
        #: Its default bridge: the last /24 of its pool (interface names have 15 characters).
        self.bridge = f"shrlf{self.pool.split('.')[1]}"
        self._bridge_address = str(
            list(ipaddress.ip_network(self.pool).subnets(new_prefix=24))[-1].network_address + 1
        )

    @property
    def host(self) -> str:
        return f"unix://{self.socket}"

    def _command(self) -> list[str]:
        return [
            "dockerd",
            f"--data-root={self.root / 'data'}",
            f"--exec-root={self.root / 'exec'}",
            f"--pidfile={self.root / 'dockerd.pid'}",
            f"--host={self.host}",
            f"--bridge={self.bridge}",
            "--iptables=false",
            f"--default-address-pool=base={self.pool},size=24",
        ]

    def _ensure_bridge(self) -> None:
        exists = subprocess.run(["ip", "link", "show", self.bridge], capture_output=True)
        if exists.returncode == 0:
            return
        subprocess.run(["ip", "link", "add", self.bridge, "type", "bridge"], check=True)
        subprocess.run(
            ["ip", "addr", "add", f"{self._bridge_address}/24", "dev", self.bridge], check=True
        )
        subprocess.run(["ip", "link", "set", self.bridge, "up"], check=True)

    def start(self) -> None:
        self._ensure_bridge()
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self._command(), stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + READY_SECONDS
        while True:
            try:
                docker.DockerClient(base_url=self.host, timeout=5).ping()
                break
            except Exception:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"private dockerd did not start: {self.log.read_text()[-2000:]}"
                    ) from None
                time.sleep(0.2)
        if subprocess.run(["iptables", "-w", "-C", *self._rule], capture_output=True).returncode:
            subprocess.run(["iptables", "-w", "-I", *self._rule], check=True)

    def stop(self) -> None:
        """Stop the daemon as ``systemctl stop docker`` does (SIGTERM; it stops containers)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=30)

    def restart(self) -> None:
        host_bridge = _host_bridge()
        self.stop()
        self._client = None  # its pooled connections died with the daemon
        self.start()
        _restore_host_bridge(host_bridge)

    def client(self) -> Any:
        if self._client is None:
            self._client = docker.DockerClient(base_url=self.host, timeout=120)
        return self._client

    def load_images(self, tags: list[str]) -> None:
        """Copy images from the main engine: ``docker save | docker load``."""
        save = subprocess.Popen(["docker", "save", *tags], stdout=subprocess.PIPE)
        load = subprocess.run(
            ["docker", "--host", self.host, "load", "--quiet"],
            stdin=save.stdout, capture_output=True, text=True,
        )  # fmt: skip
        assert save.stdout is not None
        save.stdout.close()
        if save.wait() != 0 or load.returncode != 0:
            raise RuntimeError(f"could not copy {tags} to the private engine: {load.stderr}")

    def close(self) -> None:
        """Remove everything it ran, stop it, and drop its FORWARD rule and files."""
        if self.process is not None and self.process.poll() is None:
            client = self.client()
            for container in client.containers.list(all=True):
                with contextlib.suppress(Exception):
                    container.remove(force=True)
            for network in client.networks.list():  # else its bridge outlives the daemon
                if network.name not in ("bridge", "host", "none"):
                    with contextlib.suppress(Exception):
                        network.remove()
        self.stop()
        subprocess.run(["iptables", "-w", "-D", *self._rule], capture_output=True)
        subprocess.run(["ip", "link", "delete", self.bridge], capture_output=True)
        shutil.rmtree(self.root / "exec", ignore_errors=True)
        shutil.rmtree(self.root / "data", ignore_errors=True)


def _host_bridge() -> tuple[str, str] | None:
    """The main engine's default bridge: (interface, gateway/prefix), e.g. docker0."""
    network = docker.from_env().networks.get("bridge").attrs
    name = (network.get("Options") or {}).get("com.docker.network.bridge.name", "docker0")
    config = ((network.get("IPAM") or {}).get("Config") or [{}])[0]
    if not config.get("Gateway") or not config.get("Subnet"):
        return None
    prefix = config["Subnet"].split("/")[1]
    return name, f"{config['Gateway']}/{prefix}"


def _restore_host_bridge(bridge: tuple[str, str] | None) -> None:
    """A private daemon restarted on its stored network state deletes the host's default
    bridge (docker0) as it starts, though it was told to use a bridge of its own: the main
    engine then cannot start a container on its default network. Put it back as the main
    engine made it (its NAT rules name the interface and the subnet, so they still apply)."""
    if bridge is None:
        return
    name, address = bridge
    if subprocess.run(["ip", "link", "show", name], capture_output=True).returncode == 0:
        return
    subprocess.run(["ip", "link", "add", name, "type", "bridge"], check=True)
    subprocess.run(["ip", "addr", "add", address, "dev", name], check=True)
    subprocess.run(["ip", "link", "set", name, "up"], check=True)
