"""The one error translator: every outcome of a command body becomes its exit code."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from shiprail.cli import _app
from shiprail.cli._app import report
from shiprail.errors import (
    ApprovalPending,
    ConfigError,
    DeployFailed,
    GateFailed,
    LockHeld,
    Refused,
    ToolCrashed,
    ToolMissing,
    WatchFailed,
)


def _run(exc: BaseException, *args: str) -> tuple[int, str]:
    """Invoke a one-command app whose body raises ``exc`` through ``report``."""
    probe = typer.Typer()

    @probe.command()
    def body() -> None:
        def fail() -> None:
            raise exc

        report(fail)

    result = CliRunner().invoke(probe, list(args))
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (GateFailed("2 blocking findings"), 1),
        (LockHeld("dev is locked by alice"), 1),
        (DeployFailed("smoke failed"), 1),
        (WatchFailed("watch: error rate 12%"), 1),
        (ConfigError("unknown field", path="shiprail.yaml", line=3), 2),
        (ToolMissing("trivy", "make tools"), 3),
        (ToolCrashed("semgrep crashed"), 3),
        (ApprovalPending("prod needs an approval"), 4),
    ],
)
def test_tree_maps_to_exit_codes(exc: Exception, code: int) -> None:
    exit_code, out = _run(exc)
    assert exit_code == code
    assert out.startswith(f"shiprail: error: {exc.args[0] if exc.args else ''}")
    assert "Traceback" not in out


def test_lock_and_watch_are_in_the_tree() -> None:
    assert issubclass(LockHeld, Refused)
    assert issubclass(WatchFailed, DeployFailed)


def test_unknown_error_is_one_line_exit_3_without_traceback() -> None:
    exit_code, out = _run(KeyError("surprise"))
    assert exit_code == 3
    assert out.strip() == (
        "shiprail: error: internal error: KeyError: 'surprise' "
        "(run again with --debug for the traceback)"
    )


def test_debug_adds_the_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_app._Options, "debug", True)
    exit_code, out = _run(ValueError("bad value"))
    assert exit_code == 3
    assert "Traceback (most recent call last)" in out
    assert out.strip().splitlines()[-1] == "shiprail: error: internal error: ValueError: bad value"


def test_debug_option_is_global() -> None:
    CliRunner().invoke(_app.app, ["--debug", "monitoring"])
    assert _app._Options.debug is True
    CliRunner().invoke(_app.app, ["monitoring"])
    assert _app._Options.debug is False


def test_library_error_hides_url_passwords() -> None:
    _, out = _run(RuntimeError("cannot connect to postgresql://ledger:s3cret@db:5432/x"))
    assert "s3cret" not in out
    assert "postgresql://ledger:***@db:5432/x" in out


def test_exits_pass_through_untouched() -> None:
    exit_code, _ = _run(typer.Exit(5))
    assert exit_code == 5


def test_a_reader_that_stops_early_is_not_an_error() -> None:
    """``shiprail status --json | head -1`` must not end in an internal error."""
    import subprocess
    import sys

    code = (
        "import sys; from shiprail import output; "
        "[output.emit_json({'row': n, 'pad': 'x' * 4000}) for n in range(2000)]; "
        "output.say('done')"
    )
    reader = subprocess.Popen(["head", "-c", "10"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    writer = subprocess.run(
        [sys.executable, "-c", code], stdout=reader.stdin, stderr=subprocess.PIPE, text=True
    )
    assert reader.stdin is not None
    reader.stdin.close()
    reader.wait()
    assert writer.returncode == 0, writer.stderr
    assert "done" in writer.stderr and "Error" not in writer.stderr
