"""The one place an external tool is run.

Tools are looked up where ``make tools`` installs them first (:func:`shiprail.paths.tool_dirs`),
then on ``PATH``, so a shell without ``.tools/bin`` on its PATH, or a scan of another folder,
still uses the pinned tools. Every run has
a finite timeout; a missing binary becomes :class:`ToolMissing` (exit 3) naming the install
command, a timeout becomes :class:`ToolCrashed`. Output is captured, never echoed, because
tools such as secret scanners print what they find.
"""

from __future__ import annotations

import os
import shutil
import subprocess  # nosec B404 - this module is the audited boundary for running tools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from shiprail.errors import ToolCrashed, ToolMissing
from shiprail.paths import tool_dirs

#: Default time limit for one tool run, in seconds.
DEFAULT_TIMEOUT_SECONDS = 600.0
INSTALL_HINT = "make tools"


@dataclass(frozen=True)
class Completed:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


def which(name: str) -> str | None:
    """The executable every run of ``name`` uses: from the pinned tool directories, else on
    PATH, else None. An explicit path (``/usr/bin/python3``) is only checked."""
    if os.sep in name:
        return name if os.path.isfile(name) and os.access(name, os.X_OK) else None
    for directory in tool_dirs():
        candidate = directory / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which(name)


def _child_env(extra: Mapping[str, str] | None) -> dict[str, str]:
    """A tool inherits shiprail's own environment (PATH, HOME, proxies), plus ``extra``."""
    return {**os.environ, **(extra or {})}


def run(
    args: Sequence[str],
    *,
    cwd: Path | str | None = None,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    env: Mapping[str, str] | None = None,
    input_text: str | None = None,
    install_hint: str = INSTALL_HINT,
    ok_codes: Sequence[int] | None = (0,),
) -> Completed:
    """Run a tool and return its output; ``ok_codes=None`` accepts any exit code."""
    executable = which(args[0])
    if executable is None:
        raise ToolMissing(args[0], install_hint)
    full_env = _child_env(env)
    try:
        proc = subprocess.run(  # noqa: S603 - argument list, never a shell  # nosec B603
            [executable, *args[1:]],
            cwd=cwd,
            env=full_env,
            input=input_text,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ToolCrashed(f"'{args[0]}' did not finish within {timeout:.0f}s") from exc
    except OSError as exc:
        raise ToolCrashed(f"'{args[0]}' could not be started: {exc.strerror}") from exc
    result = Completed(tuple(args), proc.returncode, proc.stdout, proc.stderr)
    if ok_codes is not None and proc.returncode not in ok_codes:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        raise ToolCrashed(
            f"'{args[0]}' exited with {proc.returncode}: " + " / ".join(tail)
            if tail
            else f"'{args[0]}' exited with {proc.returncode}"
        )
    return result


def start(
    args: Sequence[str],
    *,
    log_path: Path,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    install_hint: str = INSTALL_HINT,
    detach: bool = False,
) -> subprocess.Popen[bytes]:
    """Start a long-running tool (a server) in the background, its output going to ``log_path``.

    The caller owns the process and must stop it (``terminate`` then ``wait``); the log file
    keeps the output for error messages instead of echoing it. ``detach`` starts it in a
    session of its own, so a server meant to outlive the command (``shiprail registry up``)
    is not hit by the terminal's Ctrl-C or hang-up.
    """
    executable = which(args[0])
    if executable is None:
        raise ToolMissing(args[0], install_hint)
    full_env = _child_env(env)
    with log_path.open("ab") as log:
        try:
            return subprocess.Popen(  # noqa: S603 - argument list, never a shell  # nosec B603
                [executable, *args[1:]],
                cwd=cwd,
                env=full_env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=detach,
            )
        except OSError as exc:
            raise ToolCrashed(f"'{args[0]}' could not be started: {exc.strerror}") from exc


def pid_alive(pid: int) -> bool:
    """True while ``pid`` runs. A process of another user counts as alive; a zombie child of
    ours counts as gone once reaped (the local registry is such a child)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        done, _status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return done != pid
