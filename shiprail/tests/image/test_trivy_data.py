"""Which vulnerability data Trivy is given, from ``image_scan:`` (no tool needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shiprail.config import ShiprailConfig
from shiprail.errors import ToolCrashed
from shiprail.image.settings import ImageScanConfig
from shiprail.image.trivy import scan_command, trivy_data


def resolve(root: Path):
    return lambda value: root / value


def test_a_database_directory_is_used_offline_and_never_updated(tmp_path):
    (tmp_path / "cache" / "db").mkdir(parents=True)
    meta = {"Version": 2, "UpdatedAt": "2026-11-30T10:00:00Z"}
    (tmp_path / "cache" / "db" / "metadata.json").write_text(json.dumps(meta))
    data = trivy_data(ImageScanConfig(trivy_db_dir="cache"), resolve(tmp_path))
    assert data.vulnerabilities and data.cache_dir == tmp_path / "cache"
    assert "--skip-db-update" in data.flags and "--offline-scan" in data.flags
    assert data.description.endswith("(updated 2026-11-30; not updated by the scan)")
    command = scan_command(["image", "--input", "x.tar"], data, tmp_path / "out.json")
    assert command[command.index("--scanners") + 1] == "vuln,secret,misconfig"
    assert "--skip-check-update" in command, "the checks built into the pinned binary"
    assert command[command.index("--cache-dir") + 1] == str(tmp_path / "cache")


def test_a_mirror_repository_is_passed_to_trivy(tmp_path):
    config = ImageScanConfig(trivy_db_repository="127.0.0.1:5000/trivy-db:2")
    data = trivy_data(config, resolve(tmp_path))
    position = data.flags.index("--db-repository")
    assert data.flags[position + 1] == "127.0.0.1:5000/trivy-db:2"
    assert data.cache_dir == tmp_path / ".cache/trivy"


def test_without_a_database_os_packages_are_not_audited_and_the_report_says_so(tmp_path):
    data = trivy_data(ImageScanConfig(), resolve(tmp_path))
    assert not data.vulnerabilities
    assert data.scanners() == "secret,misconfig"
    assert data.description.startswith("Debian (OS) packages were NOT audited")
    # an SBOM rescan asks for vulnerabilities only, whatever the image scan ran
    command = scan_command(["sbom", "x.cdx.json"], data, tmp_path / "out.json")
    assert command[command.index("--scanners") + 1] == "vuln"
    assert "--skip-check-update" not in command, "trivy sbom has no misconfiguration checks"


def test_a_named_directory_without_a_database_is_an_error(tmp_path):
    with pytest.raises(ToolCrashed, match="no Trivy database in"):
        trivy_data(ImageScanConfig(trivy_db_dir="missing"), resolve(tmp_path))


def test_the_section_is_part_of_shiprail_yaml_and_strict():
    config = ShiprailConfig.model_validate({"image_scan": {"trivy_db_dir": "/srv/trivy"}})
    assert config.image_scan.trivy_db_dir == "/srv/trivy"
    with pytest.raises(ValueError, match="trivy_db_dri"):
        ShiprailConfig.model_validate({"image_scan": {"trivy_db_dri": "/srv/trivy"}})
