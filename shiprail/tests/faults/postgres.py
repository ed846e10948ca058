"""A PostgreSQL cluster of the fault matrix's own (``initdb`` + ``pg_ctl`` on a temporary
directory and a free loopback port), so stopping it — the "ledger unavailable" fault — never
disturbs the cluster the rest of the suite uses.

Local trust authentication on loopback only: the cluster lives for one test session and has
no password to leak.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path

from shiprail import _subprocess

OWNER = "postgres"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _binary(name: str) -> str:
    found = _subprocess.which(name)
    if found is None:
        versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
        if not versions:
            raise FileNotFoundError(f"{name}: PostgreSQL is not installed")
        found = str(versions[-1] / name)
    return found


class PrivateCluster:
    """``start`` / ``stop`` a cluster in ``root``; ``url`` is its ledger URL."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.port = _free_port()
        self.log = root / "postgres.log"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://{OWNER}@127.0.0.1:{self.port}/postgres"

    def _as_owner(self, *args: str) -> None:
        subprocess.run(["runuser", "-u", OWNER, "--", *args], check=True, capture_output=True)

    def create(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        shutil.chown(self.root, OWNER, OWNER)
        os.chmod(self.root, 0o700)
        self._as_owner(
            _binary("initdb"), "-D", str(self.data), "-U", OWNER, "--auth=trust",
            "--no-sync", "-E", "UTF8",
        )  # fmt: skip
        self.start()

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._as_owner(
            _binary("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options,
            "-w", "-t", "60", "start",
        )  # fmt: skip

    def stop(self) -> None:
        """Stop it fast (``-m fast``: open connections are cut, as when the server dies)."""
        self._as_owner(_binary("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def running(self) -> bool:
        status = subprocess.run(
            ["runuser", "-u", OWNER, "--", _binary("pg_ctl"), "-D", str(self.data), "status"],
            capture_output=True,
        )
        return status.returncode == 0

    def close(self) -> None:
        if self.data.exists() and self.running():
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
