"""One environment of the fault matrix: real release containers and the real nginx edge on the
private Docker Engine, a ledger (SQLite on a small tmpfs, or the private PostgreSQL), and the
``shiprail`` CLI run as a child process the way an operator runs it.

Resources are found through the engine's labels (``io.shiprail.environment``,
``io.shiprail.role``, ``io.shiprail.release``) and the ledger, never by container or volume
name, so the harness does not depend on how the engine names things.
"""

from __future__ import annotations

import os
import secrets
import socket
import ssl
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import yaml
from deploy.test_docker_integration import WATCH

from shiprail.deploy.ledger import Ledger
from shiprail.deploy.records import LockInfo, Release
from shiprail.deploy.settings import EdgeConfig, EnvironmentConfig, HealthCheck

LABEL_ENV = "io.shiprail.environment"
LABEL_ROLE = "io.shiprail.role"
LABEL_RELEASE = "io.shiprail.release"
#: Where the service keeps its data (the image's WORKDIR and VOLUME).
DATA_DIR = "/data"
MARKER = f"{DATA_DIR}/fault-matrix-marker"
COMMAND_SECONDS = 300


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class FaultWorld:
    """``name`` on the engine at ``docker_host``; ``images`` maps a key (v1, v2) to a tag and
    ``versions`` a tag to the version its /version answers."""

    def __init__(
        self,
        *,
        base: Path,
        state: Path,
        docker_host: str,
        ledger_url: str,
        images: dict[str, str],
        versions: dict[str, str],
        docker_client: Callable[[], Any],
    ) -> None:
        self.name = f"dev-fault{secrets.token_hex(3)}"
        self.base = base
        self.state = state
        self.docker_host = docker_host
        self.ledger_url = ledger_url
        self.images = images
        self.versions = versions
        self.docker_client = docker_client
        self.port = free_port()
        self.hostname = f"{self.name}.localhost"
        self.root = base / "root"
        self.root.mkdir(parents=True, exist_ok=True)
        self.cfg = EnvironmentConfig(
            replicas=2,
            memory="256m",
            cpus=0.5,
            env={"WORKORDERS_ENV": "dev"},
            edge=EdgeConfig(hostname=self.hostname, port=self.port),
            health=HealthCheck(timeout_seconds=120),
            watch=WATCH,
            drain_seconds=2,
            keep_releases=2,
            verify=False,
            registry=None,
        )
        environment = self.cfg.model_dump(mode="json", exclude_defaults=True)
        (self.root / "shiprail.yaml").write_text(
            yaml.safe_dump({"environments": {self.name: environment}})
        )
        self.marker = secrets.token_hex(8)

    # -- running shiprail ---------------------------------------------------------------
    def variables(self, **extra: str) -> dict[str, str]:
        cleared = ("SHIPRAIL_FAULT_PAUSE_AT", "SHIPRAIL_FAULT_DIR", "SHIPRAIL_JSON")
        variables = {k: v for k, v in os.environ.items() if k not in cleared}
        variables.update(
            DOCKER_HOST=self.docker_host,
            SHIPRAIL_ROOT=str(self.root),
            SHIPRAIL_STATE_DIR=str(self.state),
            SHIPRAIL_DATABASE_URL=self.ledger_url,
            SHIPRAIL_ACTOR="fault-matrix",
        )
        variables.update(extra)
        return variables

    def start(self, *args: str, **extra: str) -> subprocess.Popen[str]:
        """``shiprail ARGS`` in the background (stdout and stderr to a pipe)."""
        shiprail = str(Path(sys.executable).with_name("shiprail"))
        return subprocess.Popen(
            [shiprail, *args], env=self.variables(**extra), cwd=self.root,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip

    def run(self, *args: str) -> tuple[int, str]:
        process = self.start(*args)
        out, _ = process.communicate(timeout=COMMAND_SECONDS)
        return process.returncode, out

    def deploy_args(self, key: str) -> list[str]:
        return ["deploy", self.name, "--image", self.images[key]]

    # -- what the ledger says -----------------------------------------------------------
    def _ledger(self) -> Ledger:
        return Ledger(self.ledger_url)

    def ledger_view(self) -> tuple[Release | None, LockInfo | None, int, set[str]]:
        """The live release, the lock, how many attempts are open, and the kept releases."""
        from shiprail.deploy.retention import kept_releases

        ledger = self._ledger()
        try:
            live = ledger.live_release(self.name)
            lock = ledger.lock_info(self.name)
            open_attempts = len(ledger.open_attempts(self.name))
            kept = kept_releases(ledger, self.name, self.cfg.keep_releases)
        finally:
            ledger.engine.dispose()
        return live, lock, open_attempts, kept

    def next_image(self) -> str:
        """The key of the test image that is not live (v1 or v2)."""
        live, _, _, _ = self.ledger_view()
        return "v1" if live is not None and live.image == self.images["v2"] else "v2"

    # -- what runs ----------------------------------------------------------------------
    @property
    def client(self) -> Any:
        """A client of the private engine (a new one after the daemon restarted)."""
        return self.docker_client()

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def ca(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.state / "edge" / "ca" / "ca.pem"))

    def served_versions(self, count: int = 10) -> list[str]:
        """What ``count`` requests to /version through the edge got (a version or an error)."""
        answers = []
        with httpx.Client(verify=self.ca, timeout=5.0) as http:
            for _ in range(count):
                try:
                    response = http.get(self.url + "/version", headers={"host": self.hostname})
                    answers.append(
                        str(response.json()["version"])
                        if response.status_code == 200
                        else f"HTTP {response.status_code}"
                    )
                except (httpx.HTTPError, ValueError, KeyError) as exc:
                    answers.append(type(exc).__name__)
        return answers

    def containers(self, role: str, *, all_states: bool = True) -> list[Any]:
        labels = [f"{LABEL_ENV}={self.name}", f"{LABEL_ROLE}={role}"]
        return list(self.client.containers.list(all=all_states, filters={"label": labels}))

    def edges(self) -> list[Any]:
        """The edge proxy in front of this environment (a shared edge carries no
        environment label: then every edge of the private engine)."""
        own = self.containers("edge")
        if own:
            return own
        return list(self.client.containers.list(filters={"label": f"{LABEL_ROLE}=edge"}))

    def volumes(self) -> list[Any]:
        return list(self.client.volumes.list(filters={"label": f"{LABEL_ENV}={self.name}"}))

    def live_replica(self) -> Any:
        live, _, _, _ = self.ledger_view()
        assert live is not None, "no live release"
        for container in self.containers("replica", all_states=False):
            if container.labels.get(LABEL_RELEASE) == live.id:
                return container
        raise AssertionError(f"no running replica of the live release {live.id}")

    def write_marker(self) -> None:
        """Leave a token in the service's data volume; :meth:`read_marker` proves it intact."""
        code = f"open({MARKER!r}, 'w').write({self.marker!r})"
        result = self.live_replica().exec_run(["python3", "-c", code])
        assert result.exit_code == 0, result.output

    def read_marker(self) -> str:
        result = self.live_replica().exec_run(["cat", MARKER])
        return str(result.output.decode(errors="replace")).strip()

    def list_workorders(self) -> int:
        with httpx.Client(verify=self.ca, timeout=5.0) as http:
            response = http.get(self.url + "/api/v1/workorders", headers={"host": self.hostname})
        return response.status_code
