"""``shiprail image rescan``: the ledger's live and retained releases, re-checked from their
stored SBOMs with the real Trivy against the test database and the OSV data."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from shiprail.deploy.ledger import Ledger
from shiprail.deploy.states import ReleaseState
from shiprail.image.build import BuiltImage

from .conftest import shiprail, write_config
from .test_scan import DEBIAN_ADVISORY, PYTHON_ADVISORY, waiver

pytestmark = pytest.mark.docker

UNSCANNED = "sha256:" + "0" * 64


def ledger_with(path: Path, image: BuiltImage, digest: str, live_env: str) -> str:
    """A ledger where ``live_env`` runs the image, and dev keeps an unscanned old release."""
    url = f"sqlite:///{path}"
    ledger = Ledger(url)
    ledger.migrate()
    live = ledger.create_release(
        environment=live_env,
        image=image.reference,
        image_digest=digest,
        git_sha=image.git_sha,
        created_by="test",
        colour="blue",
    )
    ledger.set_release_status(live.id, ReleaseState.live)
    old = ledger.create_release(
        environment="dev",
        image="workorders:0.9.0-000000000000",
        image_digest=UNSCANNED,
        git_sha="000000000000",
        created_by="test",
        colour="green",
    )
    ledger.set_release_status(old.id, ReleaseState.retired)
    return url


@pytest.fixture
def scanned(docker_client, workorders_image, trivy_db, tmp_path) -> tuple[Path, str]:
    """A root whose image was scanned once (its SBOM stored), waivers in place."""
    later = dt.date.today() + dt.timedelta(days=30)
    config = write_config(tmp_path, trivy_db_dir=trivy_db, waivers=[waiver(PYTHON_ADVISORY, later)])
    # the scan itself blocks on the Debian advisory; the SBOM is stored all the same
    args = ["image", "scan", workorders_image.reference, "--config", str(config)]
    result = shiprail([*args, "--format", "json"], tmp_path)
    assert result.returncode == 1, result.stderr
    return config, docker_client.images.get(workorders_image.reference).id


def rescan(config: Path, url: str) -> tuple[int, dict, str]:
    args = ["image", "rescan", "--config", str(config), "--json"]
    result = shiprail(args, config.parent, SHIPRAIL_DATABASE_URL=url)
    assert result.stdout, result.stderr
    return result.returncode, json.loads(result.stdout), result.stderr


def test_an_advisory_reaching_live_prod_fails_the_rescan(workorders_image, scanned, tmp_path):
    config, digest = scanned
    url = ledger_with(tmp_path / "state.db", workorders_image, digest, live_env="prod")
    code, summary, stderr = rescan(config, url)
    assert code == 1, stderr
    assert "a blocking advisory reaches live production: prod/" in stderr
    (image,) = summary["images"]
    assert image["digest"] == digest and image["live_in_production"]
    rules = {f["rule"]: f for f in image["report"]["findings"]}
    assert rules[DEBIAN_ADVISORY]["blocking"]
    assert rules[PYTHON_ADVISORY]["state"] == "waived"
    (unchecked,) = summary["unchecked"]
    assert unchecked["image_digest"] == UNSCANNED
    assert "not checked: dev/" in stderr and "no SBOM stored" in stderr


def test_the_same_advisory_outside_production_is_reported_not_failed(
    workorders_image, scanned, tmp_path
):
    config, digest = scanned
    url = ledger_with(tmp_path / "state.db", workorders_image, digest, live_env="stage")
    code, summary, stderr = rescan(config, url)
    assert code == 0, stderr
    assert summary["blocking_in_production"] == 0
    assert summary["images"][0]["report"]["summary"]["blocking"] == 1
