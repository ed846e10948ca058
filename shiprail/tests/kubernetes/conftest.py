"""Fixtures for the Kubernetes checks: the real tools (helm, opa, kubernetes-validate,
checkov) and the pinned CRD data. A missing tool skips on a laptop and fails in CI
(SHIPRAIL_REQUIRE_INTEGRATION=1)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from shiprail import _subprocess
from shiprail.kubernetes.settings import KubernetesConfig

REPO = Path(__file__).resolve().parents[3]
CRDS = REPO / ".cache" / "data" / "crds"


def _missing(what: str, how: str) -> None:
    message = f"{what} is not available ({how})"
    if os.environ.get("SHIPRAIL_REQUIRE_INTEGRATION") == "1":
        pytest.fail(message)
    pytest.skip(message)


def need_tools(*names: str) -> None:
    for name in names:
        if _subprocess.which(name) is None:
            _missing(name, f"scripts/install-tools.sh {name}")


@pytest.fixture
def crds_dir() -> Path:
    if not any(CRDS.glob("*.yaml")):
        _missing("the CRD data", "SHIPRAIL_DATA_MIRROR=... scripts/fetch-data.sh crds")
    return CRDS


@pytest.fixture
def repo(tmp_path: Path, crds_dir: Path) -> Path:
    """A copy of the files the checks read, safe to break."""
    root = tmp_path / "repo"
    for rel in ("helm", "policies/kubernetes", "gitops"):
        shutil.copytree(REPO / rel, root / rel)
    alerts = REPO / "monitoring" / "prometheus" / "alerts.yaml"
    if alerts.is_file():
        (root / "monitoring" / "prometheus").mkdir(parents=True)
        shutil.copy(alerts, root / "monitoring" / "prometheus" / "alerts.yaml")
    (root / "tools.lock").write_text("# marks the repository root\n")
    return root


@pytest.fixture
def config(crds_dir: Path) -> KubernetesConfig:
    return KubernetesConfig(crds=str(crds_dir))
