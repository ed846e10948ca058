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

#: The Python package of the image the test advisory names, at the version the lock pins.
ADVISED_PACKAGE = "uvicorn"
ADVISED_VERSION = next(
    line.split("==", 1)[1].strip()
    for line in (REPO / "app" / "requirements.lock").read_text().splitlines()
    if line.startswith(f"{ADVISED_PACKAGE}==")
)
#: A made-up advisory, in OSV's format, against the service's own uvicorn: the image carries
#: no Python package with a published advisory (the gate keeps the lock clean), so the scan
#: of the image's Python packages is proven against one written for the test.
PYTHON_ADVISORY: dict[str, Any] = {
    "id": "SHIPRAIL-TEST-2026-0001",
    "summary": f"{ADVISED_PACKAGE}: made-up advisory for shiprail's image scan tests",
    "modified": "2026-01-01T00:00:00Z",
    "published": "2026-01-01T00:00:00Z",
    "affected": [
        {
            "package": {"ecosystem": "PyPI", "name": ADVISED_PACKAGE},
            "versions": [ADVISED_VERSION],
        }
    ],
    "references": [{"type": "WEB", "url": "https://example.invalid/shiprail-test"}],
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
    """An OSV directory in the PyPA layout holding :data:`PYTHON_ADVISORY`."""
    folder = root / "advisories" / ADVISED_PACKAGE
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{PYTHON_ADVISORY['id']}.json").write_text(json.dumps(PYTHON_ADVISORY))
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
