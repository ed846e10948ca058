"""The fault matrix: every fault injected at every step of a real blue/green deploy (real
containers, the real nginx edge, load through it), and at the steps of a rollback and a
prune; then the operator's next command, then the invariants of docs/releases.md ("Faults
and what holds").

``make test`` runs a fixed subset (SIGKILL at three key steps, a killed edge at the switch);
``make test-faults`` runs every cell (``FAULT_MATRIX=ci``: every fault at the key steps). Each cell
is recorded in reports/faults/matrix.{json,md} whether it passes or not; a failed cell fails
its test with the broken invariants.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from shiprail.deploy.checkpoints import Step

from .harness import run_cell
from .injections import FAULTS
from .matrix import record
from .world import FaultWorld

pytestmark = pytest.mark.docker

#: The steps where a fault hurts most: new replicas up but not serving, the edge just
#: switched, and the outcome recorded but old releases not yet pruned.
KEY_STEPS = (Step.HEALTHY, Step.EDGE_SWITCHED, Step.OUTCOME_RECORDED)
#: What every ``make test`` runs: the cells that hold today on every run. (A killed edge at
#: outcome-recorded failed once in three runs, and a Docker daemon restart does not hold
#: yet: see docs/releases.md; both stay in the full matrix.)
SUBSET = [("sigkill", step) for step in KEY_STEPS] + [("edge-killed", Step.EDGE_SWITCHED)]
#: Every other cell; the ones at a key step also run in CI (``make test-faults
#: FAULT_MATRIX=ci``), the rest only in the full matrix (the whole of it takes about two
#: hours on a 2-core machine).
FULL = [
    pytest.param(
        fault,
        step,
        id=f"{fault}-{step.value}",
        marks=pytest.mark.faults(key_step=step in KEY_STEPS),
    )
    for step in sorted(Step, key=lambda s: s not in KEY_STEPS)
    for fault in FAULTS
    if (fault, step) not in SUBSET
]


def _run(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    fault: str,
    step: Step,
    command: str = "deploy",
) -> None:
    if fault == "postgres-stopped":
        world: FaultWorld = request.getfixturevalue("postgres_world")
        extra = {"cluster": request.getfixturevalue("private_cluster"), "ledger_dir": None}
    else:
        world = request.getfixturevalue("sqlite_world")
        extra = {"cluster": None, "ledger_dir": world.state / "ledger"}
    extra["daemon"] = request.getfixturevalue("private_docker")
    result = run_cell(world, fault, step.value, extra, tmp_path / "fault", command)
    record(result)
    assert result.passed, "\n".join(result.problems + result.notes)


@pytest.mark.parametrize(("fault", "step"), SUBSET, ids=[f"{f}-{s.value}" for f, s in SUBSET])
def test_fault_subset(
    request: pytest.FixtureRequest, tmp_path: Path, fault: str, step: Step
) -> None:
    _run(request, tmp_path, fault, step)


@pytest.mark.parametrize(("fault", "step"), FULL)
def test_fault_matrix(
    request: pytest.FixtureRequest, tmp_path: Path, fault: str, step: Step
) -> None:
    _run(request, tmp_path, fault, step)


#: A rollback and a prune cut at their own steps (``shiprail rollback`` brings the retained
#: previous release back; ``shiprail prune`` takes no lock, so no concurrent cell).
OTHER_COMMANDS = [
    pytest.param(
        command, fault, step, id=f"{command}-{fault}-{step.value}", marks=pytest.mark.faults
    )
    for command, fault, step in [
        *(
            ("rollback", fault, step)
            for fault in ("sigkill", "docker-restart", "edge-killed", "concurrent")
            for step in (Step.INTENT_RECORDED, Step.EDGE_SWITCHED, Step.OLD_DRAINED)
        ),
        ("prune", "sigkill", Step.RETENTION_PRUNED),
        ("prune", "docker-restart", Step.RETENTION_PRUNED),
    ]
]


@pytest.mark.parametrize(("command", "fault", "step"), OTHER_COMMANDS)
def test_fault_matrix_other_commands(
    request: pytest.FixtureRequest, tmp_path: Path, command: str, fault: str, step: Step
) -> None:
    _run(request, tmp_path, fault, step, command)
