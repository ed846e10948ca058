"""The drill's process supervisor: a process that dies or never answers fails with its log."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from shiprail.errors import ToolCrashed
from shiprail.observe.drill.configs import free_port
from shiprail.observe.drill.processes import STARTUP_TIMEOUT_SECONDS, Processes


class FakeTime:
    """Each pause lasts ``pause`` fake seconds, whatever was asked: a handful of real
    connection attempts then cover the whole start-up timeout."""

    def __init__(self, pause: float) -> None:
        self.now = 0.0
        self.pause = pause
        self.pauses = 0

    def clock(self) -> float:
        return self.now

    def sleep(self, _seconds: float) -> None:
        self.pauses += 1
        self.now += self.pause


def test_a_process_that_exits_fails_with_the_end_of_its_log(tmp_path: Path) -> None:
    processes = Processes(tmp_path)
    script = "import sys; print('cannot bind', flush=True); sys.exit(3)"
    processes.start("server", [sys.executable, "-c", script])
    with pytest.raises(ToolCrashed, match="server exited with 3: cannot bind"):
        processes.wait_http("server", f"http://127.0.0.1:{free_port()}/ready")
    processes.stop("server")
    processes.stop("never-started")  # stopping what is not running is a no-op


def test_a_process_that_never_answers_fails_after_the_startup_timeout(tmp_path: Path) -> None:
    fake = FakeTime(pause=STARTUP_TIMEOUT_SECONDS / 4)
    processes = Processes(tmp_path, clock=fake.clock, sleep=fake.sleep)
    (tmp_path / "server.log").write_text("line 1\nstill starting\n")
    with pytest.raises(ToolCrashed, match=r"did not become ready .*line 1 / still starting"):
        processes.wait_http("server", f"http://127.0.0.1:{free_port()}/ready")
    assert fake.pauses == 4 and fake.now == STARTUP_TIMEOUT_SECONDS
