"""The real processes of the drill: started in the background, waited for, stopped.

Each process writes to ``<workdir>/<name>.log``; when one dies or never becomes ready, the
error quotes the end of its log, which is where the reason is.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import httpx

from shiprail._subprocess import start
from shiprail.errors import ToolCrashed

#: How long a process may take to answer its readiness URL on a busy 2-core runner.
STARTUP_TIMEOUT_SECONDS = 60.0
#: How long a process may take to exit after SIGTERM before it is killed.
STOP_TIMEOUT_SECONDS = 20
_POLL_SECONDS = 0.2


def workorders_binary() -> str:
    """The service's command installed beside this Python (the virtualenv), else on PATH."""
    beside_python = Path(sys.executable).parent / "workorders"
    return str(beside_python) if beside_python.exists() else "workorders"


class Processes:
    """Named background processes, all logging under ``workdir``."""

    def __init__(
        self,
        workdir: Path,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.workdir = workdir
        self.clock = clock
        self.sleep = sleep
        self._running: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, args: Sequence[str], env: Mapping[str, str] | None = None) -> None:
        log = self.workdir / f"{name}.log"
        self._running[name] = start(args, log_path=log, cwd=self.workdir, env=env)

    def stop(self, name: str) -> None:
        """Terminate ``name`` (kill it if it will not exit); nothing if it is not running."""
        process = self._running.pop(name, None)
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except Exception:
            process.kill()
            process.wait(timeout=10)

    def log_tail(self, name: str) -> str:
        path = self.workdir / f"{name}.log"
        lines = path.read_text(errors="replace").splitlines()[-8:] if path.exists() else []
        return " / ".join(lines)

    def wait_http(self, name: str, url: str) -> None:
        """Return once ``url`` answers 200; fail if ``name`` exits or the start-up time ends."""
        deadline = self.clock() + STARTUP_TIMEOUT_SECONDS
        while self.clock() < deadline:
            process = self._running.get(name)
            if process is not None and process.poll() is not None:
                raise ToolCrashed(f"{name} exited with {process.returncode}: {self.log_tail(name)}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url, timeout=2.0).status_code == 200:
                    return
            self.sleep(_POLL_SECONDS)
        raise ToolCrashed(f"{name} did not become ready at {url}: {self.log_tail(name)}")
