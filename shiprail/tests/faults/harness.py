"""One cell of the fault matrix: a real deploy paused at a step, a fault injected there, the
deploy let go, the operator's next command (``shiprail ledger check --repair``), and the
invariants of docs/releases.md ("Faults and what holds") checked on what runs.

The invariants, after the next command:

* exactly one release serves through the edge, and it is the one the ledger says is live;
* no request to the edge failed, except — for a fault that takes the edge or the engine
  down — between the injection and the end of the next command;
* the environment lock is free or held by a live process; no attempt is left open;
* no container or volume is left beyond the retention rules (only kept releases have
  containers; only the live release's replicas run), and ``shiprail ledger check`` agrees;
* the service's data volume is intact (a token written before is read back by the live
  release, and the service still reads its database).
"""

from __future__ import annotations

import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from deploy.paced_load import PacedLoad

from shiprail._subprocess import pid_alive

from .injections import FAULTS, OUTAGE_FAULTS, Context
from .world import LABEL_RELEASE, FaultWorld

#: Requests per second through the edge during a cell.
LOAD_RATE = 20.0
REACH_SECONDS = 240.0
#: How long the paused process waits for its go file (it is always given one sooner).
PAUSE_TIMEOUT = "240"


@dataclass
class CellResult:
    fault: str
    step: str
    #: the command paused and faulted: deploy, rollback or prune
    command: str = "deploy"
    passed: bool = False
    failed_requests: int = 0
    requests: int = 0
    recovery_seconds: float | None = None
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        return {
            "command": self.command,
            "fault": self.fault,
            "step": self.step,
            "result": "pass" if self.passed else "fail",
            "failed_requests": self.failed_requests,
            "requests": self.requests,
            "recovery_seconds": (
                round(self.recovery_seconds, 1) if self.recovery_seconds is not None else None
            ),
            "problems": self.problems,
            "notes": self.notes,
        }


def _wait_reached(reached: Path, process: object) -> int | None:
    deadline = time.monotonic() + REACH_SECONDS
    while time.monotonic() < deadline:
        if reached.exists():
            return int(reached.read_text().split()[0])
        if process.poll() is not None:  # type: ignore[attr-defined]
            return None
        time.sleep(0.05)
    return None


def _edge_evidence(world: FaultWorld, live_id: str) -> str:
    """What the edge and the live replicas look like, for a cell whose edge does not serve."""
    parts = []
    for edge in world.edges():
        networks = sorted(edge.attrs["NetworkSettings"]["Networks"])
        tail = edge.logs(tail=3, stdout=False).decode(errors="replace").strip()[-300:]
        servers = ""
        if edge.status == "running":
            _code, conf = edge.exec_run(["sh", "-c", "cat /etc/shiprail-edge/sites/*.conf"])
            servers = " ".join(re.findall(r"server (\S+) max_fails", conf.decode(errors="replace")))
        parts.append(f"edge {edge.name} {edge.status} on {networks} to [{servers}]: {tail}")
    for replica in world.containers("replica"):
        if replica.labels.get(LABEL_RELEASE) == live_id:
            networks = replica.attrs["NetworkSettings"]["Networks"]
            addresses = {name: net.get("IPAddress") for name, net in networks.items()}
            health = replica.attrs["State"].get("Health", {}).get("Status")
            parts.append(f"replica {replica.name} {replica.status}/{health} at {addresses}")
    return "evidence: " + " | ".join(parts)


def check_invariants(world: FaultWorld) -> list[str]:
    """Every invariant that does not hold, as one line each (empty: all hold)."""
    problems: list[str] = []
    live, lock, open_attempts, kept = world.ledger_view()
    answers = world.served_versions()
    if live is None:
        problems.append("the ledger has no live release")
    else:
        expected = world.versions.get(live.image, "?")
        if set(answers) != {expected}:
            problems.append(f"edge answers {sorted(set(answers))}, ledger's live is {expected}")
            problems.append(_edge_evidence(world, live.id))
    if lock is not None and not pid_alive(lock.pid):
        problems.append(f"lock held by dead pid {lock.pid} ({lock.holder})")
    if open_attempts:
        problems.append(f"{open_attempts} attempt(s) still open")
    for container in world.containers("replica"):
        release = container.labels.get(LABEL_RELEASE)
        if release not in kept:
            problems.append(f"container of release {release} kept beyond retention {kept}")
        elif container.status == "running" and (live is None or release != live.id):
            problems.append(f"replica of non-live release {release} runs")
    for role in ("prestart", "helper"):
        for container in world.containers(role):
            problems.append(f"{role} container {container.short_id} left behind")
    for volume in world.volumes():
        release = (volume.attrs.get("Labels") or {}).get(LABEL_RELEASE)
        if release is not None and release not in kept:
            problems.append(f"volume of release {release} kept beyond retention")
    code, out = world.run("ledger", "check", world.name)
    if code != 0:
        problems.append(f"ledger check exit {code}: {out.strip()[-300:]}")
    if live is not None:
        try:
            if world.read_marker() != world.marker:
                problems.append("the data volume lost the token written before the faults")
        except AssertionError as exc:
            problems.append(str(exc))
        if world.list_workorders() != 200:
            problems.append("the service cannot read its database")
    return problems


def _prepare(world: FaultWorld, folder: Path, command: str) -> list[str]:
    """Start from a consistent environment (what had to be repaired is noted), with an
    earlier release to go back to when the cell is a rollback."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    code, out = world.run("ledger", "check", world.name, "--repair")
    notes = [] if code == 0 and "[repaired]" not in out else [f"before: {out.strip()[-300:]}"]
    if command == "rollback" and len(world.ledger_view()[3]) < 2:
        code, out = world.run(*world.deploy_args(world.next_image()))
        assert code == 0, f"the deploy before the rollback failed: {out[-300:]}"
    return notes


def run_cell(
    world: FaultWorld,
    fault: str,
    step: str,
    ctx_kwargs: dict[str, object],
    folder: Path,
    command: str = "deploy",
) -> CellResult:
    """Run one cell; never raises: a broken invariant, or an error of the harness or of the
    machine, is a failed cell with what went wrong."""
    try:
        return _run_cell(world, fault, step, ctx_kwargs, folder, command)
    except Exception as exc:
        result = CellResult(fault, step, command)
        result.problems.append(f"harness error: {type(exc).__name__}: {exc}"[:600])
        return result


def _arguments(world: FaultWorld, command: str) -> list[str]:
    if command == "rollback":
        return ["rollback", world.name]
    if command == "prune":
        return ["prune", "--older-than", "0s"]
    return world.deploy_args(world.next_image())


def _run_cell(
    world: FaultWorld,
    fault: str,
    step: str,
    ctx_kwargs: dict[str, object],
    folder: Path,
    command: str,
) -> CellResult:
    result = CellResult(fault, step, command)
    result.notes += _prepare(world, folder, command)
    load = PacedLoad(
        world.url + "/version", rate=LOAD_RATE, verify=world.ca, host=world.hostname,
        tag=f"{fault}-{step}", workers=16,
    )  # fmt: skip
    with load:
        time.sleep(1.0)
        process = world.start(
            *_arguments(world, command),
            SHIPRAIL_FAULT_PAUSE_AT=f"{step}@{world.name}",
            SHIPRAIL_FAULT_DIR=str(folder),
            SHIPRAIL_FAULT_TIMEOUT=PAUSE_TIMEOUT,
        )
        pid = _wait_reached(folder / f"{step}.reached", process)
        if pid is None:
            process.kill()
            out, _ = process.communicate(timeout=60)
            result.problems.append(f"step never reached: {out.strip()[-400:]}")
            return result
        injected = time.monotonic()
        ctx = Context(world=world, process=process, pid=pid, **ctx_kwargs)  # type: ignore[arg-type]
        undo = FAULTS[fault](ctx)
        try:
            (folder / f"{step}.go").write_text("go\n")
            out, _ = process.communicate(timeout=REACH_SECONDS)
        finally:
            if process.poll() is None:
                process.kill()
            undo()
        result.notes.append(f"faulted run: exit {process.returncode}")
        code, next_out = world.run("ledger", "check", world.name, "--repair")
        recovered = time.monotonic()
        result.notes.append(f"next command: exit {code}")
        result.recovery_seconds = recovered - injected
        time.sleep(1.0)
    result.problems += ctx.problems
    result.notes += ctx.notes
    if code != 0:
        result.problems.append(f"ledger check --repair exit {code}: {next_out.strip()[-400:]}")
    sent = load.sent
    failed = [s for s in sent if s.failed]
    result.requests, result.failed_requests = len(sent), len(failed)
    # a request in flight when the fault struck is the fault's, even if it started before
    outside = [s for s in failed if s.done < injected or s.at > recovered]
    if fault not in OUTAGE_FAULTS and failed:
        result.problems.append(f"{len(failed)} failed request(s): {failed[0].status[:120]}")
    elif outside:
        where = [
            f"{injected - s.at:.1f}s before the injection"
            if s.at < injected
            else f"{s.at - recovered:.1f}s after the next command"
            for s in outside[:3]
        ]
        result.problems.append(
            f"{len(outside)} request(s) failed outside the fault window (at {', '.join(where)}; "
            f"{outside[0].status[:100]})"
        )
    result.problems += check_invariants(world)
    result.passed = not result.problems
    if not result.passed:
        result.notes.append(f"faulted output: {out.strip()[-600:]}")
    return result
