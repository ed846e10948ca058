"""Fixtures for the Kubernetes checks: the pinned CRD data and a copy of the files the checks
read. Missing tools and data skip on a laptop and fail in CI (the shared ``unavailable``)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from shiprail.kubernetes.settings import KubernetesConfig

from conftest import unavailable

REPO = Path(__file__).resolve().parents[3]
CRDS = REPO / ".cache" / "data" / "crds"


@pytest.fixture
def crds_dir() -> Path:
    if not any(CRDS.glob("*.yaml")):
        unavailable("the CRD data is not available (SHIPRAIL_DATA_MIRROR=... make tools)")
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
