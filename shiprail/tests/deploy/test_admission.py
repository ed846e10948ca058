"""Admission: every deploy, promotion and rollback asks the image trust first; a refusal is
recorded and starts nothing, so the live release keeps serving."""

from __future__ import annotations

from pathlib import Path

import pytest

from shiprail.config import ShiprailConfig
from shiprail.deploy import approvals
from shiprail.deploy.admission import NO_TRUST
from shiprail.deploy.platform import Platform
from shiprail.deploy.settings import EnvironmentConfig
from shiprail.deploy.trust import NOT_VERIFIED
from shiprail.errors import ConfigError, Refused

from .conftest import World, fast_env


def test_a_refused_deploy_is_recorded_and_the_live_release_keeps_serving(world: World) -> None:
    live = world.engine.deploy("dev", "workorders:v1")
    started = len(world.target.started_specs)
    world.trust.refuse["workorders:v2"] = "signature"
    with pytest.raises(Refused, match=r"check 'signature' failed.*still serving") as caught:
        world.engine.deploy("dev", "workorders:v2")
    assert live.id in caught.value.message
    assert len(world.target.started_specs) == started, "nothing started"
    assert world.router.current is not None and world.router.current.release_id == live.id
    assert world.ledger.live_release("dev") == world.ledger.release(live.id)
    refused = world.ledger.releases("dev")[0]
    assert (refused.status, refused.image) == ("refused", "workorders:v2")
    assert refused.verification is not None and "signature" in refused.verification
    assert refused.ended_at is not None
    attempt = world.ledger.attempts("dev")[0]
    assert (attempt.release_id, attempt.action, attempt.status) == (refused.id, "deploy", "refused")
    assert world.ledger.lock_info("dev") is None


def test_admitted_release_records_what_the_trust_said(world: World) -> None:
    release = world.engine.deploy("dev", "workorders:v1")
    assert world.trust.calls == [("dev", "workorders:v1", None, True)]
    assert release.verification is not None and release.verification.startswith("verified")
    assert release.sbom_digest == "sha256:" + "5" * 64
    assert world.target.pulled == ["workorders:v1"]
    history = world.engine.history("dev")[0].as_json()
    assert history["verification"] == release.verification


def test_promotion_verifies_the_source_commit_and_a_refusal_is_recorded(world: World) -> None:
    source = world.engine.deploy("dev", "workorders:v1")
    approvals.approve(world.ledger, "stage", source.id, "bob", "reviewed")
    world.trust.refuse["workorders:v1"] = "scan"
    with pytest.raises(Refused, match=r"promote refused.*'scan'"):
        world.engine.promote("dev", "stage")
    assert world.trust.calls[-1] == ("stage", "workorders:v1", "sha-v1", True)
    refused = world.ledger.releases("stage")[0]
    assert (refused.status, refused.source_release) == ("refused", source.id)
    assert world.ledger.live_release("stage") is None
    del world.trust.refuse["workorders:v1"]
    promoted = world.engine.promote("dev", "stage")
    assert promoted.status == "live" and promoted.image_digest == source.image_digest


def test_rollback_verifies_the_release_it_brings_back(world: World) -> None:
    first = world.engine.deploy("dev", "workorders:v1")
    second = world.engine.deploy("dev", "workorders:v2")
    world.trust.refuse["workorders:v1"] = "signature"
    with pytest.raises(Refused, match="rollback refused"):
        world.engine.rollback("dev")
    assert world.ledger.live_release("dev") == world.ledger.release(second.id)
    attempt = world.ledger.attempts("dev")[0]
    assert (attempt.release_id, attempt.action, attempt.status) == (first.id, "rollback", "refused")
    del world.trust.refuse["workorders:v1"]
    assert world.engine.rollback("dev").id == first.id
    assert world.trust.calls[-1] == ("dev", "workorders:v1", "sha-v1", True)


def test_dev_with_verify_off_is_recorded_as_not_verified(tmp_path: Path) -> None:
    config = ShiprailConfig(environments={"dev": fast_env(verify=False)})
    world = World(tmp_path, config)
    release = world.engine.deploy("dev", "workorders:v1")
    assert world.trust.calls == [("dev", "workorders:v1", None, False)]
    assert release.verification == NOT_VERIFIED
    assert release.status == "live"


def test_without_a_trust_nothing_is_deployed(world: World) -> None:
    world.engine.platform = Platform(
        target=world.engine.platform.target,
        router=world.engine.platform.router,
        analysis=world.engine.platform.analysis,
    )
    with pytest.raises(Refused, match=NO_TRUST):
        world.engine.deploy("dev", "workorders:v1")
    assert world.target.started_specs == []
    assert world.ledger.releases("dev")[0].status == "refused"


@pytest.mark.parametrize("name", ["prod", "stage", "qa", "devops"])
def test_only_dev_may_turn_verification_off(name: str) -> None:
    with pytest.raises(ValueError, match="only for dev"):
        ShiprailConfig(environments={name: EnvironmentConfig(verify=False)})


def test_verify_off_is_accepted_for_dev_and_dev_named_environments() -> None:
    config = ShiprailConfig(
        environments={
            "dev": EnvironmentConfig(verify=False, registry=None),
            "dev-alice": EnvironmentConfig(verify=False),
        }
    )
    assert not config.environments["dev"].verify
    assert config.environments["dev-alice"].registry == "local"


def test_verification_needs_a_registry_and_says_where(tmp_path: Path) -> None:
    from shiprail.config import load_config

    path = tmp_path / "shiprail.yaml"
    path.write_text("environments:\n  prod:\n    registry: null\n")
    with pytest.raises(ConfigError, match="needs a registry") as caught:
        load_config(path)
    assert caught.value.line == 2
    path.write_text("environments:\n  prod:\n    registry: 'not a host/'\n")
    with pytest.raises(ConfigError, match="registry must be"):
        load_config(path)
