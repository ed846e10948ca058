"""What the image tests share: the workorders image (built or reused), a real Trivy database
written by ``scripts/trivy-test-db``, and ``shiprail`` run in a child process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from shiprail.image.build import BuiltImage, build_image

from conftest import require_tools

REPO = Path(__file__).resolve().parents[3]
TEST_DB_SOURCE = REPO / "scripts" / "trivy-test-db"

#: A real advisory (GitHub's database; newer than the PyPA snapshot), written as an OSV
#: record: setuptools before 70.0 runs code from URLs given to ``package_index``. The image's
#: virtual environment carries Debian's setuptools 66.1.1, which it affects.
SETUPTOOLS_ADVISORY: dict[str, Any] = {
    "id": "GHSA-cx63-2mw6-8hw5",
    "aliases": ["CVE-2024-6345"],
    "summary": "setuptools vulnerable to Command Injection via package URL",
    "modified": "2024-07-15T20:56:19Z",
    "published": "2024-07-15T00:30:46Z",
    "affected": [
        {
            "package": {"ecosystem": "PyPI", "name": "setuptools"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "70.0.0"}]}],
        }
    ],
    "references": [{"type": "ADVISORY", "url": "https://nvd.nist.gov/vuln/detail/CVE-2024-6345"}],
    "database_specific": {"severity": "HIGH"},
}


@pytest.fixture(scope="session")
def workorders_image(docker_client) -> BuiltImage:
    """The service image, built offline from the Debian-made base (reused when unchanged).

    Built from the working tree as it is (tests run on uncommitted work), so it may be
    labelled dirty: what is scanned is what the tree holds."""
    require_tools("trivy")
    return build_image(docker_client, offline=True, allow_dirty=True)


@pytest.fixture(scope="session")
def trivy_db(tmp_path_factory) -> Path:
    """A Trivy cache directory whose ``db/`` holds the test database (one Debian advisory)."""
    require_tools("go")
    cache = tmp_path_factory.mktemp("trivy-cache")
    subprocess.run(
        ["go", "run", ".", "-dir", str(cache / "db")],
        cwd=TEST_DB_SOURCE,
        check=True,
        timeout=900,
        env={**os.environ, "GOFLAGS": "-mod=mod"},
    )
    return cache


def advisory_dir(root: Path) -> Path:
    """An OSV directory in the PyPA layout holding :data:`SETUPTOOLS_ADVISORY`."""
    folder = root / "advisories" / "setuptools"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "GHSA-cx63-2mw6-8hw5.json").write_text(json.dumps(SETUPTOOLS_ADVISORY))
    return root / "advisories"


def write_config(
    root: Path, *, trivy_db_dir: Path | None, waivers: list[dict[str, Any]] | None = None
) -> Path:
    """A repository root with shiprail.yaml (and a waivers file) for one image scan."""
    root.mkdir(parents=True, exist_ok=True)
    image_scan: dict[str, Any] = {"cache_dir": str(root / "trivy-cache")}
    if trivy_db_dir is not None:
        image_scan["trivy_db_dir"] = str(trivy_db_dir)
    config = {
        "scan": {"dependencies": {"advisory_db": str(advisory_dir(root))}},
        "image_scan": image_scan,
    }
    (root / "shiprail.yaml").write_text(yaml.safe_dump(config))
    if waivers is not None:
        (root / ".shiprail").mkdir(exist_ok=True)
        (root / ".shiprail" / "waivers.yaml").write_text(
            yaml.safe_dump({"waivers": waivers}, default_flow_style=False)
        )
    return root / "shiprail.yaml"


def shiprail(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """``shiprail ARGS`` in a child process, as a user or CI runs it."""
    code = "import sys; from shiprail.cli import main; sys.argv[0] = 'shiprail'; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **env},
        timeout=900,
    )
