"""The blue/green engine driven through its real interfaces with fake target/router/analysis."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

import pytest

from shiprail.deploy import approvals
from shiprail.errors import ApprovalPending, DeployFailed, LockHeld, UsageError

from .conftest import World


def live_id(world: World, env: str = "dev") -> str | None:
    live = world.ledger.live_release(env)
    return live.id if live else None


def test_first_deploy_goes_live_and_writes_file_sd(world: World) -> None:
    release = world.engine.deploy("dev", "workorders:v1")
    assert release.status == "live"
    assert release.image_digest == world.target.images["workorders:v1"][0]
    assert release.git_sha == "sha-v1"
    assert release.created_by == "alice"
    assert world.router.current is not None
    assert world.router.current.release_id == release.id
    assert len(world.router.current.upstreams) == 2
    targets = json.loads((world.file_sd / "workorders-dev.json").read_text())
    assert targets[0]["labels"] == {
        "environment": "dev",
        "release": release.id,
        "colour": release.colour,
        "service": "workorders",
    }
    assert len(targets[0]["targets"]) == 2
    attempt = world.ledger.attempts("dev")[0]
    assert attempt.status == "succeeded"
    assert {"start", "healthy", "smoke", "switch", "watch", "total"} <= set(attempt.timings)


def test_second_deploy_switches_colour_and_keeps_previous_stopped(world: World) -> None:
    first = world.engine.deploy("dev", "workorders:v1")
    second = world.engine.deploy("dev", "workorders:v2")
    assert second.colour != first.colour
    assert world.router.current is not None and world.router.current.release_id == second.id
    assert world.target.running_releases("dev") == {second.id}
    assert world.target.instances("dev", first.id), "previous containers kept for rollback"
    refreshed = world.ledger.release(first.id)
    assert refreshed is not None and refreshed.status == "retired"
    assert world.analysis.checks >= 3  # the watch window was observed


@pytest.mark.parametrize(
    ("image", "reason"),
    [
        ("workorders:never-ready", "not healthy"),
        ("workorders:smoke-fails", "smoke check"),
        ("workorders:errors", "error ratio"),
        ("workorders:interrupt", "interrupted"),
    ],
)
def test_broken_release_leaves_previous_serving(world: World, image: str, reason: str) -> None:
    good = world.engine.deploy("dev", "workorders:v1")
    with pytest.raises(DeployFailed) as info:
        world.engine.deploy("dev", image)
    assert reason in str(info.value)
    assert good.id in str(info.value)
    assert live_id(world) == good.id
    assert world.router.current is not None and world.router.current.release_id == good.id
    assert world.target.running_releases("dev") == {good.id}
    failed = world.ledger.releases("dev")[0]
    assert failed.image == image and failed.status == "failed"
    assert world.target.instances("dev", failed.id) == []
    attempts = world.ledger.attempts("dev")
    deploy_attempt = next(a for a in attempts if a.release_id == failed.id)
    assert deploy_attempt.status == "failed" and reason in (deploy_attempt.reason or "")
    targets = json.loads((world.file_sd / "workorders-dev.json").read_text())
    assert targets[0]["labels"]["release"] == good.id
    if image.endswith("errors"):
        # switched back after serving: its replicas finish in-flight requests before removal
        assert not any(failed.id in name for name in world.target.removed_while_running)
        rollback = attempts[0]
        assert rollback.action == "rollback" and rollback.release_id == good.id
        assert "error ratio" in (rollback.cause or "")


def test_rollback_restores_previous_from_retained_containers(world: World) -> None:
    v1 = world.engine.deploy("dev", "workorders:v1")
    v2 = world.engine.deploy("dev", "workorders:v2")
    started = len(world.target.started_specs)
    back = world.engine.rollback("dev")
    assert back.id == v1.id and back.status == "live"
    assert len(world.target.started_specs) == started, "retained containers reused, none started"
    assert world.target.running_releases("dev") == {v1.id}
    assert world.router.current is not None and world.router.current.release_id == v1.id
    v2_now = world.ledger.release(v2.id)
    assert v2_now is not None and v2_now.status == "rolled_back"
    attempt = world.ledger.attempts("dev")[0]
    assert attempt.action == "rollback" and attempt.status == "succeeded"
    assert v2.id in (attempt.cause or "")
    # and forward again, by id
    assert world.engine.rollback("dev", to=v2.id).id == v2.id


def test_rollback_without_earlier_release_is_a_usage_error(world: World) -> None:
    world.engine.deploy("dev", "workorders:v1")
    with pytest.raises(UsageError, match="no earlier release"):
        world.engine.rollback("dev")


def test_promotion_into_prod_needs_approval(world: World) -> None:
    dev = world.engine.deploy("dev", "workorders:v1")
    with pytest.raises(ApprovalPending) as info:
        world.engine.promote("dev", "stage")
    assert info.value.exit_code == 4
    assert f"shiprail approve stage {dev.id}" in str(info.value)
    approvals.approve(world.ledger, "stage", dev.id, "bob", "tested in dev")
    stage = world.engine.promote("dev", "stage")
    assert stage.image_digest == dev.image_digest and stage.source_release == dev.id
    with pytest.raises(ApprovalPending):
        world.engine.promote("stage", "prod")
    approvals.approve(world.ledger, "prod", stage.id, "bob", "change ticket 42")
    prod = world.engine.promote("stage", "prod")
    assert prod.status == "live" and prod.image_digest == dev.image_digest
    history = [entry.as_json() for entry in world.engine.history("prod")]
    assert history[0]["action"] == "promote" and history[0]["status"] == "succeeded"
    assert history[0]["approval"]["reason"] == "change ticket 42"
    assert history[1]["status"] == "awaiting-approval"


def test_direct_deploy_into_guarded_environment_is_refused(world: World) -> None:
    with pytest.raises(ApprovalPending, match="promotion"):
        world.engine.deploy("prod", "workorders:v1")


def test_approval_needs_a_reason_and_a_known_release(world: World) -> None:
    dev = world.engine.deploy("dev", "workorders:v1")
    with pytest.raises(UsageError, match="reason"):
        world.engine.approve("prod", dev.id, "  ")
    with pytest.raises(UsageError, match="not in the ledger"):
        world.engine.approve("prod", "r-nope", "because")


def test_concurrent_deploy_is_refused(world: World) -> None:
    with world.ledger.lock("dev", "bob@elsewhere pid 1"):
        with pytest.raises(LockHeld, match="locked by another deploy") as info:
            world.engine.deploy("dev", "workorders:v1")
        assert info.value.exit_code == 1
    assert world.engine.deploy("dev", "workorders:v1").status == "live"


def test_lock_of_a_killed_process_is_recovered_and_attempt_marked(world: World) -> None:
    v1 = world.engine.deploy("dev", "workorders:v1")
    # A deploy that died after its intent: lock row with a pid that no longer exists.
    dead_pid = _dead_pid()
    token, _ = world.ledger.try_lock("dev", "carol")
    assert token is not None
    with world.ledger.engine.begin() as tx:
        from shiprail.deploy.records import locks

        tx.execute(locks.update().values(pid=dead_pid))
    orphan = world.ledger.create_release(
        environment="dev", image="workorders:v2", image_digest="sha256:x", git_sha="x",
        created_by="carol", colour="green",
    )  # fmt: skip
    world.ledger.begin_attempt(environment="dev", release_id=orphan.id, action="deploy", actor="c")
    v3 = world.engine.deploy("dev", "workorders:v3")
    assert v3.status == "live"
    statuses = {a.release_id: a.status for a in world.ledger.attempts("dev")}
    assert statuses[orphan.id] == "interrupted"
    orphan_now = world.ledger.release(orphan.id)
    assert orphan_now is not None and orphan_now.status == "failed"
    assert world.ledger.lock_info("dev") is None
    assert v1.id in {r.id for r in world.ledger.releases("dev")}


def _dead_pid() -> int:
    pid = 999_999
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        pid -= 1


def test_retention_keeps_last_n_and_prune_never_removes_them(world: World) -> None:
    ids = [world.engine.deploy("dev", f"workorders:v{n}").id for n in (1, 2, 3, 4)]
    kept = {i.release_id for i in world.target.instances("dev")}
    assert kept == set(ids[1:]), "keep_releases=2 earlier releases plus the live one"
    removed = world.engine.prune(timedelta(seconds=0))
    assert removed.images == ["workorders:v1"]
    assert {i.release_id for i in world.target.instances("dev")} == set(ids[1:])
    assert world.engine.rollback("dev").id == ids[2]


def test_prune_respects_age(world: World) -> None:
    for n in (1, 2, 3, 4):
        world.engine.deploy("dev", f"workorders:v{n}")
    assert world.engine.prune(timedelta(days=7)).as_json() == {"containers": [], "images": []}


def test_unknown_environment_and_image(world: World) -> None:
    with pytest.raises(UsageError, match="unknown environment 'qa'"):
        world.engine.deploy("qa", "workorders:v1")
    with pytest.raises(UsageError, match="not on the target"):
        world.engine.deploy("dev", "workorders:nope")


def test_secrets_are_read_at_deploy_time_and_never_in_env(world: World, tmp_path) -> None:
    from shiprail.config import ShiprailConfig

    from .conftest import World as W
    from .conftest import fast_env

    (tmp_path / "db.txt").write_text("s3cr3t-file")
    os.environ["SHIPRAIL_TEST_SECRET_TOKEN"] = "s3cr3t-env"
    try:
        cfg = fast_env(
            secrets={
                "db_password": {"file": "db.txt"},
                "token": {"env": "SHIPRAIL_TEST_SECRET_TOKEN"},
            }
        )
        w = W(tmp_path / "w", ShiprailConfig(environments={"dev": cfg}))
        w.engine.root = tmp_path
        w.engine.deploy("dev", "workorders:v1")
        spec = w.target.started_specs[0]
        assert spec.secrets == {"db_password": b"s3cr3t-file", "token": b"s3cr3t-env"}
        assert "s3cr3t" not in repr(spec) and "s3cr3t" not in json.dumps(dict(spec.env))
        assert not any("s3cr3t" in m for m in w.messages)
    finally:
        del os.environ["SHIPRAIL_TEST_SECRET_TOKEN"]


def test_status_reports_live_release(world: World) -> None:
    v1 = world.engine.deploy("dev", "workorders:v1")
    rows = {r.environment: r.as_json() for r in world.engine.status()}
    assert rows["dev"]["release"]["id"] == v1.id
    assert rows["dev"]["replicas"] == {"expected": 2, "running": 2}
    assert rows["prod"]["release"] is None and rows["prod"]["requires_approval"] is True


def test_env_references_are_read_at_deploy_time(tmp_path) -> None:
    from shiprail.config import ShiprailConfig
    from shiprail.errors import ConfigError

    from .conftest import World as W
    from .conftest import fast_env

    cfg = fast_env(env={"WORKORDERS_API_TOKEN_HASHES": "${SHIPRAIL_TEST_HASHES}", "A": "b"})
    w = W(tmp_path, ShiprailConfig(environments={"dev": cfg}))
    with pytest.raises(ConfigError, match="SHIPRAIL_TEST_HASHES is not set"):
        w.engine.deploy("dev", "workorders:v1")
    assert w.ledger.releases("dev") == [] and w.ledger.attempts("dev") == []
    os.environ["SHIPRAIL_TEST_HASHES"] = "ab" * 32
    try:
        w.engine.deploy("dev", "workorders:v1")
    finally:
        del os.environ["SHIPRAIL_TEST_HASHES"]
    env = w.target.started_specs[-1].env
    assert env["WORKORDERS_API_TOKEN_HASHES"] == "ab" * 32 and env["A"] == "b"
    assert env["SHIPRAIL_RELEASE"] == w.ledger.live_release("dev").id


def test_file_sd_dir_follows_the_monitoring_section(tmp_path) -> None:
    from shiprail.config import ShiprailConfig
    from shiprail.deploy.monitoring_targets import file_sd_dir

    config = ShiprailConfig.model_validate({"monitoring": {"targets_dir": str(tmp_path / "t")}})
    assert file_sd_dir(config) == tmp_path / "t"
    assert file_sd_dir(None).parts[-2:] == ("monitoring", "targets")


def test_previous_warm_keeps_only_the_replaced_release_running(tmp_path: Path) -> None:
    """``previous: warm``: the replaced release keeps running without traffic, so a rollback
    is a switch (nothing restarted); the release kept warm before it is stopped, and
    ``ledger check`` counts the warm one as expected, not as a stray."""
    from shiprail.config import ShiprailConfig
    from shiprail.deploy import consistency

    from .conftest import World, fast_env

    world = World(tmp_path, ShiprailConfig(environments={"dev": fast_env(previous="warm")}))
    v1 = world.engine.deploy("dev", "workorders:v1")
    v2 = world.engine.deploy("dev", "workorders:v2")
    assert world.target.running_releases("dev") == {v1.id, v2.id}
    assert world.router.current is not None and world.router.current.release_id == v2.id
    assert consistency.check(world.engine, "dev").findings == []
    v3 = world.engine.deploy("dev", "workorders:v3")
    assert world.target.running_releases("dev") == {v2.id, v3.id}, "v1 no longer warm"
    started = len(world.target.started_specs)
    back = world.engine.rollback("dev")
    assert back.id == v2.id
    assert len(world.target.started_specs) == started
    assert world.router.current is not None and world.router.current.release_id == v2.id
    assert world.target.running_releases("dev") == {v2.id}, "v3 drained and stopped"
