"""The cluster's long-running processes: started detached, recorded, health-checked, stopped.

Each component runs in a session of its own (a terminal's Ctrl-C must not take the cluster
down) and is recorded in ``processes.json`` with its pid and executable. A recorded pid counts
as running only while ``/proc/<pid>/exe`` is still that executable, so a pid reused by an
unrelated process after a reboot is never signalled.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from shiprail import _subprocess
from shiprail.errors import ToolCrashed

#: Seconds a component may take to become healthy, and to exit after SIGTERM.
START_TIMEOUT_SECONDS = 90.0
STOP_TIMEOUT_SECONDS = 20.0
PROBE_TIMEOUT_SECONDS = 3.0

Probe = Callable[[], bool]


@dataclass(frozen=True)
class Component:
    """One process of the cluster: how to start it and how to tell it is healthy."""

    name: str
    argv: tuple[str, ...]
    probe: Probe
    env: tuple[tuple[str, str], ...] = ()


class ProcessTable:
    """``processes.json``: name → {pid, exe}."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, dict[str, object]]:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def record(self, name: str, pid: int, exe: str) -> None:
        data = self.load()
        data[name] = {"pid": pid, "exe": exe}
        self.path.write_text(json.dumps(data, indent=2) + "\n")

    def forget(self, name: str) -> None:
        data = self.load()
        data.pop(name, None)
        self.path.write_text(json.dumps(data, indent=2) + "\n")

    def running_pid(self, name: str) -> int | None:
        """The recorded pid of ``name`` when that very executable still runs under it."""
        entry = self.load().get(name)
        if not isinstance(entry, dict):
            return None
        pid, exe = entry.get("pid"), entry.get("exe")
        if not isinstance(pid, int) or not _subprocess.pid_alive(pid):
            return None
        try:
            current = os.readlink(f"/proc/{pid}/exe")
        except OSError:
            return None
        return pid if current.removesuffix(" (deleted)") == exe else None


def start(component: Component, table: ProcessTable, log: Path) -> int:
    """Start ``component`` detached and wait until its probe passes; raise with the log's
    tail when it exits or stays unhealthy."""
    process = _subprocess.start(component.argv, log_path=log, env=dict(component.env), detach=True)
    exe = os.path.realpath(_subprocess.which(component.argv[0]) or component.argv[0])
    table.record(component.name, process.pid, exe)
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            table.forget(component.name)
            raise ToolCrashed(f"{component.name} exited with {process.returncode}: {tail(log)}")
        if component.probe():
            return process.pid
        time.sleep(0.5)
    raise ToolCrashed(
        f"{component.name} did not become healthy within {START_TIMEOUT_SECONDS:.0f}s: " + tail(log)
    )


def stop(name: str, table: ProcessTable) -> bool:
    """SIGTERM, then SIGKILL after the grace period; True when something was stopped."""
    pid = table.running_pid(name)
    table_had = pid is not None
    if pid is not None:
        terminate(pid)
    table.forget(name)
    return table_had


def terminate(pid: int, grace: float = STOP_TIMEOUT_SECONDS) -> None:
    """Stop one process by its id: SIGTERM, wait, then SIGKILL."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and _subprocess.pid_alive(pid):
        time.sleep(0.2)
    if _subprocess.pid_alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        time.sleep(0.2)


def tail(log: Path, lines: int = 5) -> str:
    """The last lines of a component's log, for an error message."""
    try:
        text = log.read_text(errors="replace").strip().splitlines()[-lines:]
    except OSError:
        return f"(no log at {log})"
    return " / ".join(text) + f" (log: {log})"


# -- probes --------------------------------------------------------------------------------


def http_probe(url: str, context: ssl.SSLContext | None = None) -> Probe:
    """Healthy when ``url`` answers 200 (loopback only: the components' health ports)."""

    def probe() -> bool:
        try:
            with urllib.request.urlopen(  # noqa: S310 - fixed loopback URL  # nosec B310
                url, timeout=PROBE_TIMEOUT_SECONDS, context=context
            ) as response:
                return bool(response.status == 200)
        except (OSError, urllib.error.URLError, ssl.SSLError):
            return False

    return probe


def api_probe(url: str, ca: Path, cert: Path, key: Path) -> Probe:
    """Healthy when the API server answers ``url`` to the administrator's certificate; the
    TLS context is made per call, so a cluster never set up (no certificates) is just down."""

    def probe() -> bool:
        try:
            context = client_context(ca, cert, key)
        except (OSError, ssl.SSLError):
            return False
        return http_probe(url, context)()

    return probe


def tcp_probe(port: int, host: str = "127.0.0.1") -> Probe:
    """Healthy when the port accepts a connection (components whose health endpoint
    needs credentials the probe does not hold)."""

    def probe() -> bool:
        try:
            with socket.create_connection((host, port), timeout=PROBE_TIMEOUT_SECONDS):
                return True
        except OSError:
            return False

    return probe


def unix_probe(path: Path) -> Probe:
    """Healthy when the unix socket accepts a connection (containerd's gRPC socket)."""

    def probe() -> bool:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.settimeout(PROBE_TIMEOUT_SECONDS)
            try:
                client.connect(str(path))
            except OSError:
                return False
            return True

    return probe


def client_context(ca: Path, cert: Path, key: Path) -> ssl.SSLContext:
    """TLS to the API server as the administrator, verifying it against the local CA."""
    context = ssl.create_default_context(cafile=str(ca))
    context.load_cert_chain(str(cert), str(key))
    return context
