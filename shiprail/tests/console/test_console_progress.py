"""A blue/green deploy records each stage on its ``rollouts`` row, so ``shiprail status`` and
the console can follow it from another process: start, healthy, smoke (one line per check),
switch, watch (elapsed and remaining seconds, error ratio, p95), drain, then the outcome."""

from __future__ import annotations

from pathlib import Path

import pytest
from deploy.conftest import World

from shiprail.deploy import progress
from shiprail.deploy.progress import Phase, Request, RolloutState
from shiprail.errors import DeployFailed, UsageError

from .conftest import console_config


class Follower:
    """Reads the environment's rollout in progress each time the engine speaks, sleeps or
    switches the edge, the way another process polling the ledger would see it."""

    def __init__(self, world: World, environment: str) -> None:
        self.world, self.environment = world, environment
        self.seen: list[RolloutState] = []
        say, sleep, switch = world.engine.say, world.engine.sleep, world.router.switch
        world.engine.say = lambda message: (self._look(), say(message))[-1]
        world.engine.sleep = lambda seconds: (self._look(), sleep(seconds))[-1]
        world.router.switch = lambda route: (self._look(), switch(route))[-1]  # type: ignore[method-assign]

    def _look(self) -> None:
        state = progress.in_progress(self.world.ledger, self.environment)
        if state is not None:
            self.seen.append(state)

    def stages(self) -> list[str]:
        out: list[str] = []
        for state in self.seen:
            if state.stage and (not out or out[-1] != state.stage):
                out.append(state.stage)
        return out

    def lines(self, stage: str) -> list[str]:
        return [line for s in self.seen if s.stage == stage for line in s.detail_lines]


def test_blue_green_stages_are_recorded_in_order(tmp_path: Path) -> None:
    world = World(tmp_path, console_config(watch_seconds=3))
    follower = Follower(world, "dev")
    world.engine.deploy("dev", "workorders:v1")
    follower.seen.clear()
    release = world.engine.deploy("dev", "workorders:v2")

    assert follower.stages() == ["start", "healthy", "smoke", "switch", "watch", "drain"]
    smoke = set(follower.lines("smoke"))
    replicas = {i.name for i in world.target.instances("dev", release.id)}
    assert {line.split(" on ")[1].split(":")[0] for line in smoke} == replicas
    assert all(line.startswith("GET ") and line.endswith("passed") for line in smoke)
    watch = follower.lines("watch")
    assert any("of 3s watched" in line and "error ratio 0.00%" in line and "p95 10 ms" in line
               for line in watch)  # fmt: skip
    assert any(line.startswith("3s of 3s watched, 0s left") for line in watch)
    weights = {s.stage: s.weight for s in follower.seen}
    assert weights["smoke"] == 0 and weights["watch"] == 100

    final = progress.of_release(world.ledger, release.id)
    assert final is not None and final.phase == Phase.promoted and final.stage == "drain"
    assert progress.in_progress(world.ledger, "dev") is None
    assert "blue-green" in final.line() and "serves all traffic" in final.line()


def test_a_failed_watch_ends_the_row_with_the_reason(tmp_path: Path) -> None:
    world = World(tmp_path, console_config(watch_seconds=3))
    world.engine.deploy("dev", "workorders:v1")
    with pytest.raises(DeployFailed):
        world.engine.deploy("dev", "workorders:errors")
    bad = next(a for a in world.ledger.attempts("dev", limit=5) if a.status == "failed")
    state = progress.read(world.ledger, bad.id)
    assert state is not None and state.phase == Phase.failed and state.stage == "watch"
    assert state.detail is not None and "error ratio 50.0%" in state.detail
    assert progress.in_progress(world.ledger, "dev") is None


def test_a_blue_green_rollout_takes_no_canary_request(tmp_path: Path) -> None:
    """``shiprail abort`` acts on canaries only: a blue/green rollout never reads requests,
    so recording one would promise what will not happen."""
    world = World(tmp_path, console_config(watch_seconds=3))
    refused: list[str] = []

    def ask(_seconds: float) -> None:
        if progress.in_progress(world.ledger, "dev") and not refused:
            with pytest.raises(UsageError) as caught:
                progress.request(world.ledger, "dev", Request.abort, "bob", "looks odd")
            refused.append(caught.value.message)

    sleep = world.engine.sleep
    world.engine.sleep = lambda seconds: (ask(seconds), sleep(seconds))[-1]
    world.engine.deploy("dev", "workorders:v1")
    assert refused and "no canary rollout" in refused[0]
