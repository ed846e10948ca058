"""The faults of the matrix: each one is injected while a ``shiprail`` command waits at a
checkpoint, and returns how to undo its cause once that command has ended (what an operator
does before running the next command: start the database again, free the disk).

A fault that restarts or breaks a shared service acts on the matrix's own instance of it
(:mod:`.daemon`, :mod:`.postgres`), never on the one the rest of the suite uses.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .daemon import PrivateDocker
from .postgres import PrivateCluster
from .world import FaultWorld

Undo = Callable[[], None]


def _nothing() -> None:
    return None


@dataclass
class Context:
    """What a fault may act on: the world, the paused process, the private services."""

    world: FaultWorld
    process: Any
    pid: int
    daemon: PrivateDocker
    cluster: PrivateCluster | None
    #: the ledger file of a SQLite world, its -wal/-shm companions and their folder
    ledger_dir: Path | None
    #: notes for the matrix (e.g. what a concurrent command answered)
    notes: list[str] = field(default_factory=list)
    #: problems found while injecting (a concurrent command that was not refused)
    problems: list[str] = field(default_factory=list)


def sigkill(ctx: Context) -> Undo:
    """``kill -9`` of the shiprail process: nothing of it runs after this line."""
    os.kill(ctx.pid, signal.SIGKILL)
    return _nothing


def docker_restart(ctx: Context) -> Undo:
    """``systemctl restart docker``: the daemon stops every container, starts again, and
    restarts those with a restart policy."""
    ctx.daemon.restart()
    return _nothing


def postgres_stopped(ctx: Context) -> Undo:
    """The PostgreSQL ledger stops (``pg_ctl stop -m fast``: open connections are cut)."""
    assert ctx.cluster is not None, "a PostgreSQL fault runs on the PostgreSQL world"
    ctx.cluster.stop()
    return ctx.cluster.start


def sqlite_readonly(ctx: Context) -> Undo:
    """The SQLite ledger, its -wal and -shm files and their folder are made immutable:
    read-only even for root. (Linux lets a descriptor opened before keep writing, so the
    paused process may still commit through its open connection; every new one cannot.)"""
    assert ctx.ledger_dir is not None, "a SQLite fault runs on the SQLite world"
    paths = [*sorted(ctx.ledger_dir.iterdir()), ctx.ledger_dir]
    subprocess.run(["chattr", "+i", *map(str, paths)], check=True)

    def undo() -> None:
        subprocess.run(["chattr", "-i", *map(str, paths)], check=True)

    return undo


def disk_full(ctx: Context) -> Undo:
    """The state directory's filesystem (a small tmpfs) is filled to the last byte."""
    filler = ctx.world.state / "filler"
    chunk = b"\0" * (1 << 20)
    with filler.open("wb", buffering=0) as out:
        while True:
            try:
                out.write(chunk)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                break
    with filler.open("ab", buffering=0) as out, contextlib.suppress(OSError):
        while out.write(b"\0" * 512):  # the last partial megabyte
            pass

    def undo() -> None:
        filler.unlink(missing_ok=True)

    return undo


def edge_killed(ctx: Context) -> Undo:
    """The edge proxy's container is killed (``docker kill``: it stays down)."""
    for edge in ctx.world.edges():
        edge.kill()
    return _nothing


def concurrent(ctx: Context) -> Undo:
    """A second deploy and a rollback of the same environment while the first one is paused:
    both must be refused (the environment's lock), and change nothing."""
    world = ctx.world
    for args in (world.deploy_args(world.next_image()), ["rollback", world.name]):
        code, out = world.run(*args)
        last = out.strip().splitlines()[-1] if out.strip() else ""
        ctx.notes.append(f"{args[0]}: exit {code}: {last}")
        if code == 0 or "lock" not in out.lower():
            ctx.problems.append(f"concurrent {args[0]} was not refused by the lock: {last}")
    return _nothing


FAULTS: dict[str, Callable[[Context], Undo]] = {
    "sigkill": sigkill,
    "docker-restart": docker_restart,
    "postgres-stopped": postgres_stopped,
    "sqlite-readonly": sqlite_readonly,
    "disk-full": disk_full,
    "edge-killed": edge_killed,
    "concurrent": concurrent,
}

#: Faults after which requests may fail, and only between the injection and the end of the
#: operator's next command (docs/releases.md, "Faults and what holds"); every other fault
#: allows no failed request at all.
OUTAGE_FAULTS = frozenset({"docker-restart", "edge-killed"})
