"""``shiprail ledger check [--repair]`` and ``shiprail edge repair`` on the fakes: each rule
of ``deploy/consistency.py`` broken through the fakes' state, reported in one line, repaired
from the ledger, and a second check clean."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from shiprail.cli import app
from shiprail.cli import consistency as consistency_cli
from shiprail.deploy import consistency
from shiprail.deploy.records import Release, locks
from shiprail.deploy.states import Action, AttemptState, ReleaseState
from shiprail.deploy.strategies import route_for
from shiprail.deploy.targets.interface import ReleaseSpec

from .conftest import World
from .fakes import FakeEdge
from .test_docker_integration import Env

runner = CliRunner()


@pytest.fixture
def deployed(world: World, monkeypatch: pytest.MonkeyPatch) -> tuple[World, Release, Release]:
    """dev with v1 retired (stopped, kept) and v2 live; the CLI runs on this world."""
    world.router = FakeEdge()
    v1 = world.engine.deploy("dev", "workorders:v1")
    v2 = world.engine.deploy("dev", "workorders:v2")
    monkeypatch.setattr(consistency_cli, "_engine", lambda: world.engine)
    return world, v1, v2


def _cli(*args: str) -> tuple[int, list[str]]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout.splitlines()


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _dead_lock(world: World, holder: str = "bob@ci pid 4242") -> int:
    """The lock row a killed process leaves: its host, a pid that no longer runs."""
    token, _ = world.ledger.try_lock("dev", holder)
    assert token is not None
    pid = _dead_pid()
    with world.ledger.engine.begin() as tx:
        tx.execute(locks.update().where(locks.c.environment == "dev").values(pid=pid))
    return pid


def _start(world: World, release_id: str, image: str = "workorders:v3") -> None:
    spec = ReleaseSpec("dev", release_id, "blue", image, 2, 0.5, 256 << 20, "net-dev")
    world.target.start(spec)


def test_a_consistent_environment_reports_nothing(
    deployed: tuple[World, Release, Release],
) -> None:
    world, _, _ = deployed
    assert consistency.check(world.engine, "dev").findings == []
    code, lines = _cli("ledger", "check")
    assert code == 0 and lines == []


def test_each_disagreement_is_one_line_and_repair_fixes_them(
    deployed: tuple[World, Release, Release],
) -> None:
    world, v1, v2 = deployed
    cfg = world.engine.env("dev")
    target, edge = world.target, world.router
    assert isinstance(edge, FakeEdge)
    # 1. the live release's replicas are stopped (a reboot without restart policies)
    target.stop(target.instances("dev", v2.id))
    # 2. the retired release runs again, and so do containers the ledger never heard of
    target.resume("dev", v1.id)
    _start(world, "r-unknown")
    # 3. the edge was pointed at v1 by hand
    edge.switch(route_for("dev", cfg.edge.hostname, target.instances("dev", v1.id), 8000))
    # 4 and 5. a deploy of v3 killed mid-way: open attempt, pending release, its lock
    v3 = world.ledger.create_release(
        environment="dev", image="workorders:v3", image_digest="sha256:3", git_sha="3",
        created_by="bob", colour="green",
    )  # fmt: skip
    attempt = world.ledger.begin_attempt(
        environment="dev", release_id=v3.id, action=Action.deploy, actor="bob"
    )
    _start(world, v3.id)
    pid = _dead_lock(world)

    code, lines = _cli("ledger", "check", "dev")
    assert code == 1
    assert all(line.startswith("dev: ") and ") -> " in line for line in lines), lines
    text = "\n".join(lines)
    assert f"live release {v2.id} has no running replicas (2 retained container(s)" in text
    assert f"2 replica(s) of release {v1.id} run (the ledger says retired) -> stop them" in text
    assert "release r-unknown run (the ledger has no such release) -> stop and remove" in text
    assert f"the edge does not route to the live release {v2.id} (it routes to {v1.id})" in text
    assert f"attempt {attempt} (deploy {v3.id}) is open (lock holder pid {pid}" in text
    assert "the lock is held by a dead process (bob@ci pid 4242" in text
    assert v3.id not in text.split("attempt")[0], "the pending release is the attempt's finding"
    assert len(lines) == 6

    code, lines = _cli("ledger", "check", "dev", "--repair")
    assert code == 0, lines
    assert len(lines) == 6 and all(line.endswith("[repaired]") for line in lines)
    assert target.running_releases("dev") == {v2.id}
    assert {i.release_id for i in target.instances("dev")} == {v1.id, v2.id}, "v1 kept"
    assert edge.routed() == consistency.EdgeState(
        True, (v2.id,), tuple(i.upstream for i in target.instances("dev", v2.id))
    )
    assert world.ledger.attempts("dev")[0].status == AttemptState.interrupted
    assert world.ledger.release(v3.id).status == ReleaseState.failed  # type: ignore[union-attr]
    assert world.ledger.lock_info("dev") is None
    assert _cli("ledger", "check", "dev") == (0, [])


def test_a_stopped_edge_is_rebuilt_by_edge_repair(
    deployed: tuple[World, Release, Release],
) -> None:
    world, _, v2 = deployed
    edge = world.router
    assert isinstance(edge, FakeEdge)
    edge.running = False
    code, lines = _cli("ledger", "check")
    assert code == 1
    assert lines == [
        "dev: the edge proxy does not run (its container is missing or stopped) -> "
        f"rebuild the edge from the ledger (all traffic to {v2.id})"
    ]
    result = runner.invoke(app, ["edge", "repair", "dev"])
    assert result.exit_code == 0, result.output
    assert f"dev: the edge routes to {v2.id} (2 replica(s))" in result.output
    assert edge.running and edge.routed().release_ids == (v2.id,)
    assert _cli("ledger", "check") == (0, [])


def test_a_lock_of_a_dead_process_alone_is_released(
    deployed: tuple[World, Release, Release],
) -> None:
    world, _, _ = deployed
    _dead_lock(world)
    code, lines = _cli("ledger", "check", "dev", "--json")
    assert code == 1
    [dev] = json.loads("\n".join(lines))
    assert [f["kind"] for f in dev["findings"]] == ["dead-lock"]
    assert not dev["consistent"]
    code, lines = _cli("ledger", "check", "--repair")
    assert code == 0 and lines == [lines[0]] and lines[0].endswith("-> release it [repaired]")
    assert world.ledger.lock_info("dev") is None


def test_an_environment_being_changed_is_not_judged(
    deployed: tuple[World, Release, Release],
) -> None:
    world, _, v2 = deployed
    world.target.stop(world.target.instances("dev", v2.id))
    with world.ledger.lock("dev", "carol@here pid 1"):
        code, lines = _cli("ledger", "check", "dev", "--repair")
    assert code == 0
    assert len(lines) == 1
    assert lines[0].startswith("dev: not checked, carol@here pid 1 holds its lock since ")
    assert lines[0].endswith(" UTC (a change in progress)")
    assert world.target.running_releases("dev") == set(), "nothing touched"


def test_a_live_release_without_containers_cannot_be_repaired(
    deployed: tuple[World, Release, Release],
) -> None:
    world, _, v2 = deployed
    world.target.remove(world.target.instances("dev", v2.id))
    code, lines = _cli("ledger", "check", "dev", "--repair")
    assert code == 1
    assert any("no containers left) -> cannot repair" in line for line in lines), lines
    result = runner.invoke(app, ["edge", "repair", "dev"])
    assert result.exit_code == 1
    assert f"{v2.id} has no containers left" in result.output


@pytest.fixture(scope="module")
def live_v2(tmp_path_factory: pytest.TempPathFactory, docker_client: Any) -> Iterator[Env]:
    """A real environment behind the nginx edge with v1 retired and v2 live."""
    environment = Env(tmp_path_factory.mktemp("consistency-it"), docker_client)
    try:
        engine = environment.engine()
        engine.deploy(environment.name, environment.images["v1"])
        engine.deploy(environment.name, environment.images["v2"])
        yield environment
    finally:
        environment.cleanup()


@pytest.mark.docker
def test_docker_killed_edge_and_stopped_replicas_are_repaired(
    live_v2: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = live_v2
    live = env.ledger.live_release(env.name)
    assert live is not None
    monkeypatch.setattr(consistency_cli, "_engine", env.engine)
    assert _cli("ledger", "check", env.name) == (0, [])
    env.edge.kill()  # what `docker kill` does
    assert _cli("ledger", "check", env.name) == (
        1,
        [
            f"{env.name}: the edge proxy does not run (its container is missing or stopped) "
            f"-> rebuild the edge from the ledger (all traffic to {live.id})"
        ],
    )
    result = runner.invoke(app, ["edge", "repair", env.name])
    assert result.exit_code == 0, result.output
    assert env.served_version() == "2.0.0-it"

    for replica in env.client.containers.list(filters={"label": f"io.shiprail.release={live.id}"}):
        replica.stop(timeout=2)
    code, lines = _cli("ledger", "check", env.name, "--repair")
    assert code == 0, lines
    assert lines[0].startswith(f"{env.name}: live release {live.id} has no running replicas")
    assert all(line.endswith("[repaired]") for line in lines), lines
    assert env.served_version() == "2.0.0-it"
    assert _cli("ledger", "check", env.name) == (0, [])
