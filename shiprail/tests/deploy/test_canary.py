"""The canary strategy driven through the engine with fakes: a router that records splits and
a metric source that answers by image name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shiprail.config import ShiprailConfig
from shiprail.deploy import progress
from shiprail.deploy.progress import Phase, Request
from shiprail.errors import DeployFailed, UsageError

from .conftest import IMAGES, World, fast_env
from .fakes import FakeMetricSource

CANARY = {
    "steps": [10, 25, 50, 100],
    "interval_seconds": 5,
    "threshold": 2,
    "min_requests": 20,
    "max_paused_intervals": 3,
}


class CanaryWorld(World):
    def __init__(self, tmp_path: Path, **canary: object) -> None:
        cfg = fast_env(strategy="canary", canary={**CANARY, **canary})
        super().__init__(tmp_path, ShiprailConfig(environments={"dev": cfg}))
        for name in ("slow", "quiet"):
            self.target.images[f"workorders:{name}"] = IMAGES["workorders:v1"]
        self.metrics = FakeMetricSource()
        self.announced: list[tuple[str, str, str]] = []
        self.engine.platform.metrics = lambda: self.metrics
        self.engine.platform.announce = self._announce

    def _announce(self, environment: str, release: str, reason: str) -> str | None:
        self.announced.append((environment, release, reason))
        return "Alertmanager at http://127.0.0.1:9 cannot be reached (ConnectError)"

    def weights(self) -> list[int]:
        return [split.canary_weight for split in self.router.splits]


@pytest.fixture
def canary(tmp_path: Path) -> CanaryWorld:
    world = CanaryWorld(tmp_path)
    world.engine.deploy("dev", "workorders:v1")  # nothing to compare with: blue/green
    return world


def test_first_release_goes_live_without_a_split(canary: CanaryWorld) -> None:
    assert canary.router.splits == []
    assert any("first release goes live blue/green" in m for m in canary.messages)


def test_good_release_reaches_100_through_every_step(canary: CanaryWorld) -> None:
    stable = canary.ledger.live_release("dev")
    assert stable is not None
    seen_targets: list[set[str]] = []
    seen_status: list[dict[str, object]] = []

    def look(_n: int) -> None:
        groups = json.loads((canary.file_sd / "workorders-dev.json").read_text())
        seen_targets.append({group["labels"]["release"] for group in groups})
        seen_status.append(canary.engine.status("dev")[0].as_json())

    canary.metrics.on_measure = look
    release = canary.engine.deploy("dev", "workorders:v2")
    assert release.status == "live"
    assert canary.weights() == [10, 25, 50]
    assert all(s.stable.release_id == stable.id for s in canary.router.splits)
    assert canary.router.current is not None and canary.router.current.release_id == release.id
    assert canary.metrics.measured == 4, "one analysis interval per step, 100 % included"
    assert seen_targets[0] == {stable.id, release.id}, "both releases scraped during the split"
    rollout = seen_status[1]["rollout"]
    assert isinstance(rollout, dict)
    assert rollout["weight"] == 25 and rollout["stable_weight"] == 75 and rollout["step"] == 2
    assert canary.target.running_releases("dev") == {release.id}
    assert canary.target.instances("dev", stable.id), "old replicas kept for rollback"
    state = progress.read(canary.ledger, canary.ledger.attempts("dev")[0].id)
    assert state is not None and state.phase == Phase.promoted and state.weight == 100
    final = json.loads((canary.file_sd / "workorders-dev.json").read_text())
    assert [g["labels"]["release"] for g in final] == [release.id]
    assert canary.engine.status("dev")[0].rollout is None, "nothing in progress any more"


@pytest.mark.parametrize(
    ("image", "check"),
    [("errors", "request-success-rate 94.00 < 99"), ("slow", "request-duration 800.00 > 500")],
)
def test_failing_check_aborts_after_threshold(canary: CanaryWorld, image: str, check: str) -> None:
    stable = canary.ledger.live_release("dev")
    assert stable is not None
    with pytest.raises(DeployFailed, match="canary aborted") as info:
        canary.engine.deploy("dev", f"workorders:{image}")
    assert check in str(info.value) and stable.id in str(info.value)
    assert canary.metrics.measured == 2, "threshold 2: aborted at the second failed check"
    assert canary.weights() == [10], "a failed check holds the step"
    assert canary.router.current is not None and canary.router.current.release_id == stable.id
    bad = canary.ledger.releases("dev")[0]
    assert bad.status == "failed"
    kept = canary.target.instances("dev", bad.id)
    assert kept and not any(i.running for i in kept), "canary stopped, kept for inspection"
    attempt = canary.ledger.attempts("dev")[0]
    assert attempt.status == "aborted" and check in (attempt.reason or "")
    assert "failed check 2/2" in (attempt.reason or "")
    state = progress.read(canary.ledger, attempt.id)
    assert state is not None and state.phase == Phase.aborted
    assert canary.announced == [("dev", bad.id, attempt.reason)]
    assert any("could not announce the abort" in m for m in canary.messages)
    groups = json.loads((canary.file_sd / "workorders-dev.json").read_text())
    assert [g["labels"]["release"] for g in groups] == [stable.id]
    assert canary.ledger.live_release("dev") == stable


def test_no_traffic_pauses_then_aborts(canary: CanaryWorld) -> None:
    with pytest.raises(DeployFailed, match="too little traffic"):
        canary.engine.deploy("dev", "workorders:quiet")
    paused = [m for m in canary.messages if m.startswith("paused at step 1/4 (10%)")]
    assert len(paused) == 3 and "fewer than 20; no verdict (1/3)" in paused[0]
    assert canary.weights() == [10], "a paused step never advances"
    assert canary.ledger.attempts("dev")[0].status == "aborted"


@pytest.mark.parametrize(("image", "detect"), [("errors", 10.0), ("quiet", 15.0)])
def test_aborted_attempt_reports_its_time_to_detect(
    canary: CanaryWorld, image: str, detect: float
) -> None:
    """From the first split to the abort decision: two failed 5 s intervals (threshold 2), or
    three paused ones; the analysis time is recorded for the aborted attempt too."""
    with pytest.raises(DeployFailed, match="canary aborted"):
        canary.engine.deploy("dev", f"workorders:{image}")
    timings = canary.ledger.attempts("dev")[0].timings
    assert timings["detect"] == detect
    assert timings["analysis"] >= detect


def test_promoted_attempt_has_no_time_to_detect(canary: CanaryWorld) -> None:
    canary.engine.deploy("dev", "workorders:v2")
    timings = canary.ledger.attempts("dev")[0].timings
    assert "detect" not in timings and timings["analysis"] == 20.0, timings


def test_abort_requested_from_another_process(canary: CanaryWorld) -> None:
    def bob(n: int) -> None:
        if n == 2:
            progress.request(canary.ledger, "dev", Request.abort, "bob", "support tickets")

    canary.metrics.on_measure = bob
    with pytest.raises(DeployFailed, match="canary aborted by bob: support tickets"):
        canary.engine.deploy("dev", "workorders:v2")
    assert canary.metrics.measured == 2, "seen at the next interval, before measuring"
    assert canary.weights() == [10, 25, 50], "requested during step 2, seen before step 3 is judged"
    attempt = canary.ledger.attempts("dev")[0]
    assert attempt.status == "aborted" and "bob" in (attempt.reason or "")
    state = progress.read(canary.ledger, attempt.id)
    assert state is not None and state.requested == Request.abort
    assert state.requested_by == "bob" and state.request_reason == "support tickets"


def test_skip_analysis_promotes_at_the_next_interval(canary: CanaryWorld) -> None:
    def carol(n: int) -> None:
        if n == 1:
            progress.request(canary.ledger, "dev", Request.skip_analysis, "carol", "hotfix")
            with pytest.raises(UsageError, match="already requested"):
                progress.request(canary.ledger, "dev", Request.abort, "dave", "late")

    canary.metrics.on_measure = carol
    release = canary.engine.deploy("dev", "workorders:slow")
    assert release.status == "live", "not judged: the person took responsibility"
    assert canary.metrics.measured == 1 and canary.weights() == [10]
    assert canary.router.current is not None and canary.router.current.release_id == release.id
    attempt = canary.ledger.attempts("dev")[0]
    assert attempt.status == "succeeded"
    assert attempt.cause == "analysis skipped by carol: hotfix"


def test_requests_need_a_canary_in_progress_and_a_reason(canary: CanaryWorld) -> None:
    with pytest.raises(UsageError, match="no canary rollout is in progress in dev"):
        progress.request(canary.ledger, "dev", Request.abort, "bob", "why")
    with pytest.raises(UsageError, match="--reason"):
        progress.request(canary.ledger, "dev", Request.abort, "bob", " ")


def test_interrupted_canary_is_recovered_with_stable_at_100(canary: CanaryWorld) -> None:
    stable = canary.ledger.live_release("dev")
    assert stable is not None
    # A canary whose process was killed at 25 %: its attempt, rollout row and containers.
    orphan = canary.ledger.create_release(
        environment="dev", image="workorders:v2", image_digest="sha256:x", git_sha="x",
        created_by="carol", colour="green",
    )  # fmt: skip
    attempt = canary.ledger.begin_attempt(
        environment="dev", release_id=orphan.id, action="deploy", actor="carol"
    )
    progress.start(canary.ledger, attempt, "dev", orphan.id, "canary")
    progress.update(canary.ledger, attempt, phase=Phase.progressing, step=2, weight=25)
    assert canary.engine.status("dev")[0].rollout is not None
    routes_before = len(canary.router.routes)
    canary.engine.deploy("dev", "workorders:v3")
    recovered = canary.router.routes[routes_before]
    assert recovered.release_id == stable.id, "first thing: the stable release at 100 %"
    assert any("recovering" in m for m in canary.messages)
    state = progress.read(canary.ledger, attempt)
    assert state is not None and state.phase == Phase.interrupted
    statuses = {a.release_id: a.status for a in canary.ledger.attempts("dev")}
    assert statuses[orphan.id] == "interrupted"


def test_status_line_shows_step_and_weights(canary: CanaryWorld) -> None:
    lines: list[str] = []
    canary.metrics.on_measure = lambda n: lines.append(canary.engine.status("dev")[0].line())
    canary.engine.deploy("dev", "workorders:v2")
    assert "step 1 canary 10% / stable 90%" in lines[0]
    assert "step 3 canary 50% / stable 50%" in lines[2]
