"""The pause hook the fault matrix drives (``deploy/checkpoints.py``), and the recovery order
the matrix found wrong, on the engine's test doubles (no Docker needed)."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from deploy.conftest import World, fast_env
from deploy.fakes import FakeRouter, FakeTarget

from shiprail.config import ShiprailConfig
from shiprail.deploy.checkpoints import Step, checkpoint
from shiprail.deploy.records import locks
from shiprail.deploy.states import Action, AttemptState
from shiprail.deploy.strategies import route_for
from shiprail.deploy.targets.interface import Instance, ReleaseSpec


def test_without_the_variables_a_checkpoint_returns_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SHIPRAIL_FAULT_PAUSE_AT", raising=False)
    monkeypatch.setenv("SHIPRAIL_FAULT_DIR", str(tmp_path))
    checkpoint(Step.EDGE_SWITCHED, "dev")
    monkeypatch.setenv("SHIPRAIL_FAULT_PAUSE_AT", "edge-switched@prod")
    checkpoint(Step.EDGE_SWITCHED, "dev")  # another environment's step
    monkeypatch.setenv("SHIPRAIL_FAULT_PAUSE_AT", "healthy")
    checkpoint(Step.EDGE_SWITCHED, "dev")  # another step
    assert list(tmp_path.iterdir()) == []


def test_a_checkpoint_pauses_until_its_go_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHIPRAIL_FAULT_PAUSE_AT", "edge-switched@dev")
    monkeypatch.setenv("SHIPRAIL_FAULT_DIR", str(tmp_path))
    passed = threading.Event()

    def run() -> None:
        checkpoint(Step.EDGE_SWITCHED, "dev")
        passed.set()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    reached = tmp_path / "edge-switched.reached"
    deadline = time.monotonic() + 30
    while not reached.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert reached.read_text().split() == [str(os.getpid())]
    assert not passed.wait(0.3), "it must wait for the go file"
    (tmp_path / "edge-switched.go").write_text("go\n")
    thread.join(timeout=30)
    assert passed.is_set()


def test_a_forgotten_pause_ends_at_its_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHIPRAIL_FAULT_PAUSE_AT", "watch")
    monkeypatch.setenv("SHIPRAIL_FAULT_DIR", str(tmp_path))
    monkeypatch.setenv("SHIPRAIL_FAULT_TIMEOUT", "0.2")
    checkpoint(Step.WATCH, "any")
    assert (tmp_path / "watch.reached").exists()


@dataclass
class RouteWatchingTarget(FakeTarget):
    """Notes which release the edge routed to each time replicas were removed."""

    router: FakeRouter | None = None
    routed_at_removal: list[tuple[str, str]] = field(default_factory=list)

    def remove(self, instances: list[Instance]) -> None:
        assert self.router is not None and self.router.current is not None
        for instance in instances:
            self.routed_at_removal.append((instance.release_id, self.router.current.release_id))
        super().remove(instances)


def test_recovery_moves_the_edge_before_it_removes_the_interrupted_release(
    tmp_path: Path,
) -> None:
    """A run killed right after it switched the edge (the matrix's sigkill at edge-switched
    cell): the next run must route back to the live release first, then stop and remove the
    interrupted release's replicas; the other order fails every request in between."""
    world = World(tmp_path, ShiprailConfig(environments={"dev": fast_env()}))
    v1 = world.engine.deploy("dev", "workorders:v1")
    target = RouteWatchingTarget(images=world.target.images, router=world.router)
    target.containers = world.target.containers
    world.target = target
    killed = world.ledger.create_release(
        environment="dev", image="workorders:v2", image_digest="sha256:2", git_sha="2",
        created_by="bob", colour="green",
    )  # fmt: skip
    world.ledger.begin_attempt(
        environment="dev", release_id=killed.id, action=Action.deploy, actor="bob"
    )
    spec = ReleaseSpec("dev", killed.id, "green", "workorders:v2", 2, 0.5, 256 << 20, "backend")
    replicas = target.start(spec)
    world.router.switch(route_for("dev", "dev.localhost", replicas, 8000))
    token, _ = world.ledger.try_lock("dev", "bob@host pid 1")
    assert token is not None
    with world.ledger.engine.begin() as tx:  # the killed run's pid no longer runs
        tx.execute(locks.update().where(locks.c.environment == "dev").values(pid=2**22 + 1))

    world.engine.deploy("dev", "workorders:v3")

    removals = [pair for pair in target.routed_at_removal if pair[0] == killed.id]
    assert removals and all(routed == v1.id for _, routed in removals), removals
    assert not [name for name in target.removed_while_running if killed.id in name]
    statuses = {a.release_id: a.status for a in world.ledger.attempts("dev")}
    assert statuses[killed.id] == AttemptState.interrupted


def test_recovery_of_an_interrupted_rollback_stops_the_release_it_brought_back(
    tmp_path: Path,
) -> None:
    """A rollback killed after it switched the edge (the matrix's rollback sigkill at
    edge-switched cell): the next run routes back to the live release and stops the retained
    release the rollback had resumed, keeping its containers for a later rollback."""
    world = World(tmp_path, ShiprailConfig(environments={"dev": fast_env()}))
    v1 = world.engine.deploy("dev", "workorders:v1")
    v2 = world.engine.deploy("dev", "workorders:v2")
    world.ledger.begin_attempt(
        environment="dev", release_id=v1.id, action=Action.rollback, actor="bob"
    )
    resumed = world.target.resume("dev", v1.id)
    world.router.switch(route_for("dev", "dev.localhost", resumed, 8000))

    world.engine._recover("dev", world.engine.env("dev"), world.target)

    assert world.router.current is not None and world.router.current.release_id == v2.id
    assert world.target.running_releases("dev") == {v2.id}
    assert len(world.target.instances("dev", v1.id)) == 2, "kept for a later rollback"
    v1_now = world.ledger.release(v1.id)
    assert v1_now is not None and v1_now.status == "retired"
    [rollback] = [a for a in world.ledger.attempts("dev") if a.action == Action.rollback]
    assert rollback.status == AttemptState.interrupted
