"""The named steps of a deploy, promote, rollback and prune, and a pause point at each one
for fault-injection tests.

A fault must hit a release at an exact moment (after the edge switched, before the outcome is
recorded, ...), which neither a timer nor a log line gives reliably. So the engine calls
:func:`checkpoint` as it passes each step. In production it does nothing: it only reads two
environment variables, and only a test harness sets them:

``SHIPRAIL_FAULT_PAUSE_AT``
    ``<step>`` or ``<step>@<environment>``: the one step to pause at.
``SHIPRAIL_FAULT_DIR``
    a directory shared with the harness. On reaching the step the process writes
    ``<step>.reached`` there (holding its pid), then waits until ``<step>.go`` appears,
    at most ``SHIPRAIL_FAULT_TIMEOUT`` seconds (default 300), and carries on.

Between the two files the harness injects its fault (SIGKILL of this process, a Docker
daemon restart, a stopped database, a full disk, a killed edge, a concurrent command). The
hook is kept out of ``shiprail.settings`` on purpose: it is not an option of the product.

The order a deploy (or promote) passes the steps in: image pulled and verified, intent
recorded (pending release and open attempt), containers started, healthy, smoke passed,
edge switched, watch (blue/green) or each analysis interval (canary), old colour drained,
outcome recorded, retention pruned. A rollback passes the same steps but the watch and the
pruning; ``shiprail prune`` passes retention pruned once per environment.
"""

from __future__ import annotations

import os
import time
from enum import StrEnum
from pathlib import Path

PAUSE_AT_VARIABLE = "SHIPRAIL_FAULT_PAUSE_AT"
DIR_VARIABLE = "SHIPRAIL_FAULT_DIR"
TIMEOUT_VARIABLE = "SHIPRAIL_FAULT_TIMEOUT"
#: How long a paused process waits for its ``.go`` file before it carries on by itself.
DEFAULT_TIMEOUT_SECONDS = 300.0
_POLL_SECONDS = 0.05


class Step(StrEnum):
    """A step of a release, as named in ``SHIPRAIL_FAULT_PAUSE_AT`` and the fault matrix."""

    IMAGE_VERIFIED = "image-verified"
    INTENT_RECORDED = "intent-recorded"
    CONTAINERS_STARTED = "containers-started"
    HEALTHY = "healthy"
    SMOKE_PASSED = "smoke-passed"
    EDGE_SWITCHED = "edge-switched"
    WATCH = "watch"
    OLD_DRAINED = "old-drained"
    OUTCOME_RECORDED = "outcome-recorded"
    RETENTION_PRUNED = "retention-pruned"


def _wanted(step: Step, environment: str, pause_at: str) -> bool:
    name, _, only = pause_at.partition("@")
    return name == step.value and (not only or only == environment)


def checkpoint(step: Step, environment: str) -> None:
    """Pause at ``step`` of ``environment`` when a test harness asked to (see the module
    docstring); return at once otherwise."""
    pause_at = os.environ.get(PAUSE_AT_VARIABLE, "")
    directory = os.environ.get(DIR_VARIABLE, "")
    if not pause_at or not directory or not _wanted(step, environment, pause_at):
        return
    folder = Path(directory)
    reached = folder / f"{step.value}.reached"
    partial = folder / f"{step.value}.reached.tmp"
    partial.write_text(f"{os.getpid()}\n")
    partial.replace(reached)  # the harness never reads half a pid
    timeout = float(os.environ.get(TIMEOUT_VARIABLE) or DEFAULT_TIMEOUT_SECONDS)
    deadline = time.monotonic() + timeout
    go = folder / f"{step.value}.go"
    while not go.exists() and time.monotonic() < deadline:
        time.sleep(_POLL_SECONDS)
