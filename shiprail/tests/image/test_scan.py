"""``shiprail image scan`` with the real Trivy, the real Docker Engine and the real image.

The Debian advisory comes from a Trivy database written by ``scripts/trivy-test-db`` (the
trivy-db module's own writers); the Python advisory from an OSV directory, the data
``shiprail scan`` reads. Nothing is faked between shiprail and the scanner.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shiprail.image.build import BuiltImage
from shiprail.image.sbom import sbom_path, sha256_file, write_sbom

from .conftest import ADVISED_PACKAGE, ADVISED_VERSION, shiprail, write_config

pytestmark = pytest.mark.docker

DEBIAN_ADVISORY = "CVE-2023-45853"
PYTHON_ADVISORY = "SHIPRAIL-TEST-2026-0001"


def scan_json(image: BuiltImage, config: Path, *extra: str) -> tuple[int, dict[str, Any], str]:
    """Run ``shiprail image scan`` with the JSON report on stdout."""
    result = shiprail(
        ["image", "scan", image.reference, "--config", str(config), "--format", "json", *extra],
        cwd=config.parent,
    )
    assert result.stdout, result.stderr
    return result.returncode, json.loads(result.stdout), result.stderr


def by_rule(report: dict[str, Any], rule: str) -> dict[str, Any]:
    matches = [f for f in report["findings"] if f["rule"] == rule]
    assert matches, f"{rule} not reported; rules: {[f['rule'] for f in report['findings']]}"
    return matches[0]


def test_sbom_lists_debian_and_python_packages(docker_client, workorders_image, tmp_path):
    config = write_config(tmp_path, trivy_db_dir=None)
    sbom = write_sbom(
        docker_client,
        workorders_image.reference,
        tmp_path / "sbom",
        cache_dir=tmp_path / "trivy-cache",
        timeout=900,
    )
    digest = docker_client.images.get(workorders_image.reference).id
    assert sbom.digest == digest
    assert sbom.path == sbom_path(tmp_path / "sbom", digest)
    assert sbom.sha256 == sha256_file(sbom.path)
    document = json.loads(sbom.path.read_text())
    assert document["bomFormat"] == "CycloneDX"
    packages = {(p.kind, p.name): p for p in sbom.packages()}
    assert packages["deb", "zlib1g"].version == "1:1.2.13.dfsg-1"
    assert ("deb", "libc6") in packages
    fastapi = packages["pypi", "fastapi"]
    assert fastapi.version and fastapi.purl == f"pkg:pypi/fastapi@{fastapi.version}"
    assert fastapi.path and "site-packages/fastapi-" in fastapi.path
    assert config.is_file()
    again = write_sbom(
        docker_client,
        workorders_image.reference,
        tmp_path / "sbom",
        cache_dir=tmp_path / "trivy-cache",
        timeout=900,
    )
    assert again == sbom, "one SBOM per digest, kept: its sha256 stays what was recorded"


def test_debian_and_python_advisories_block(workorders_image, trivy_db, tmp_path):
    config = write_config(tmp_path, trivy_db_dir=trivy_db)
    code, report, stderr = scan_json(workorders_image, config)
    assert code == 1, stderr
    assert "blocking finding(s) in the image" in stderr
    debian = by_rule(report, DEBIAN_ADVISORY)
    assert debian["tool"] == "trivy" and debian["severity"] == "critical"
    assert debian["blocking"] and debian["path"] == "debian/zlib1g"
    assert "zlib1g 1:1.2.13.dfsg-1" in debian["message"]
    assert "fixed in 1:1.3.dfsg+really1.3.1-1" in debian["message"]
    python = by_rule(report, PYTHON_ADVISORY)
    assert python["tool"] == "osv" and python["severity"] == "high" and python["blocking"]
    assert f"{ADVISED_PACKAGE} {ADVISED_VERSION}" in python["message"]
    assert report["target"].startswith(f"{workorders_image.reference}@sha256:")
    notes = " ".join(n["message"] for n in report["notes"])
    assert f"Trivy database in {trivy_db}" in notes
    assert "Python packages of the image checked offline" in notes
    assert (tmp_path / ".shiprail" / "sbom").is_dir(), "the SBOM is kept by digest"


def test_sarif_report_carries_both_advisories(workorders_image, trivy_db, tmp_path):
    config = write_config(tmp_path, trivy_db_dir=trivy_db)
    sarif = tmp_path / "image.sarif"
    args = ["image", "scan", workorders_image.reference, "--config", str(config)]
    result = shiprail([*args, "--output", str(sarif)], cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    document = json.loads(sarif.read_text())
    results = {r["ruleId"]: r for run in document["runs"] for r in run["results"]}
    assert results[DEBIAN_ADVISORY]["properties"]["security-severity"] == "9.5"
    assert results[PYTHON_ADVISORY]["level"] == "error"
    assert {run["tool"]["driver"]["name"] for run in document["runs"]} == {"trivy", "osv"}


def waiver(rule: str, expires: dt.date) -> dict[str, Any]:
    return {
        "rule": rule,
        "reason": "reviewed: the image never unpacks zip files or installs from URLs",
        "owner": "team-platform",
        "expires": expires.isoformat(),
    }


def test_a_waiver_lets_advisories_through_until_it_expires(workorders_image, trivy_db, tmp_path):
    later = dt.date.today() + dt.timedelta(days=60)
    waivers = [waiver(DEBIAN_ADVISORY, later), waiver(PYTHON_ADVISORY, later)]
    config = write_config(tmp_path / "active", trivy_db_dir=trivy_db, waivers=waivers)
    code, report, stderr = scan_json(workorders_image, config)
    assert code == 0, stderr
    assert by_rule(report, DEBIAN_ADVISORY)["state"] == "waived"
    assert by_rule(report, PYTHON_ADVISORY)["state"] == "waived"
    assert "gate: PASSED" in stderr

    yesterday = dt.date.today() - dt.timedelta(days=1)
    waivers = [waiver(DEBIAN_ADVISORY, yesterday), waiver(PYTHON_ADVISORY, later)]
    config = write_config(tmp_path / "expired", trivy_db_dir=trivy_db, waivers=waivers)
    code, report, stderr = scan_json(workorders_image, config)
    assert code == 1, stderr
    debian = by_rule(report, DEBIAN_ADVISORY)
    assert debian["state"] == "open" and debian["blocking"]
    assert debian["note"] == f"waiver expired on {yesterday.isoformat()}"
    assert by_rule(report, PYTHON_ADVISORY)["state"] == "waived"
    assert [w["rule"] for w in report["waivers"]["expired"]] == [DEBIAN_ADVISORY]


def test_without_a_database_the_report_says_debian_packages_were_not_audited(
    workorders_image, tmp_path
):
    config = write_config(tmp_path, trivy_db_dir=None)
    result = shiprail(
        ["image", "scan", workorders_image.reference, "--config", str(config)], tmp_path
    )
    code, stderr = result.returncode, result.stderr
    assert "Debian (OS) packages were NOT audited" in stderr
    # no --format: every report is written to reports/image/ under the root
    reports = tmp_path / "reports" / "image"
    assert {p.name for p in reports.iterdir()} >= {"scan.sarif", "scan.json", "scan.html"}
    report = json.loads((reports / "scan.json").read_text())
    notes = [n["message"] for n in report["notes"] if n["tool"] == "trivy"]
    assert notes and "no Trivy vulnerability database is configured" in notes[0]
    assert all(f["rule"] != DEBIAN_ADVISORY for f in report["findings"])
    # the Python packages are still audited, and their advisory still blocks
    assert by_rule(report, PYTHON_ADVISORY)["blocking"] and code == 1


def test_the_database_dir_option_overrides_the_config(workorders_image, trivy_db, tmp_path):
    config = write_config(tmp_path, trivy_db_dir=None)
    code, report, _ = scan_json(workorders_image, config, "--trivy-db-dir", str(trivy_db))
    assert code == 1
    assert by_rule(report, DEBIAN_ADVISORY)["blocking"]


def test_a_missing_database_dir_is_a_tool_error(workorders_image, tmp_path):
    config = write_config(tmp_path, trivy_db_dir=tmp_path / "nowhere")
    args = ["image", "scan", workorders_image.reference, "--config", str(config)]
    result = shiprail(args, tmp_path)
    assert result.returncode == 3
    assert "no Trivy database in" in result.stderr


#: A GitHub token's shape, split so the repository's own secret scanners do not flag it.
LEAKED_TOKEN = "ghp_" + "8f3Kq9ZxV2mN7bL4" + "tR6yW1cD5hJ0sA3eGuPi"


@pytest.fixture(scope="module")
def leaky_image(docker_client, workorders_image) -> Iterator[str]:
    """An image built from the same base that runs as root and carries a token in a file."""
    dockerfile = (
        f'FROM {workorders_image.base}\nRUN printf "token = {LEAKED_TOKEN}\\n" > /etc/leaked.conf\n'
    )
    tag = "shiprail-test/leaky:scan"
    docker_client.images.build(
        fileobj=io.BytesIO(dockerfile.encode()), tag=tag, network_mode="none", rm=True
    )
    yield tag
    docker_client.images.remove(tag, force=True)


def test_secrets_and_misconfiguration_in_the_image_block(leaky_image, tmp_path):
    config = write_config(tmp_path, trivy_db_dir=None)
    result = shiprail(
        ["image", "scan", leaky_image, "--config", str(config), "--format", "json"], tmp_path
    )
    assert result.returncode == 1, result.stderr
    assert LEAKED_TOKEN not in result.stdout + result.stderr
    report = json.loads(result.stdout)
    secret = next(f for f in report["findings"] if f["path"] == "etc/leaked.conf")
    assert secret["tool"] == "trivy" and secret["category"] == "secrets"
    assert secret["rule"] == "github-pat" and secret["blocking"]
    root_user = by_rule(report, "DS-0002")
    assert root_user["path"] == "image-config" and root_user["category"] == "container"
    assert root_user["severity"] == "high" and root_user["blocking"]
    # the same finding keeps its fingerprint from one scan to the next (a waiver can name it)
    again = shiprail(
        ["image", "scan", leaky_image, "--config", str(config), "--format", "json"], tmp_path
    )
    assert by_rule(json.loads(again.stdout), "DS-0002")["fingerprint"] == root_user["fingerprint"]
