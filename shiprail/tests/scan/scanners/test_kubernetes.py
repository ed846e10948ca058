"""kubernetes: the scanner that hands the chart, its values and the GitOps manifests to the
Kubernetes check (whose checks have their own tests under ``tests/kubernetes``). What is
tested here is the scanner's side: which files make it run, and that it returns the
check's findings."""

from __future__ import annotations

from pathlib import Path

from shiprail.kubernetes.settings import KubernetesConfig
from shiprail.scan.scanners.kubernetes import KubernetesScanner

CONFIG = KubernetesConfig.model_validate(
    {"environments": [{"name": "dev", "values": "deploy/values-dev.yaml"}]}
)
FILES = [
    Path("helm/chart/Chart.yaml"),
    Path("helm/chart/templates/deployment.yaml"),
    Path("deploy/values-dev.yaml"),
    Path("gitops/apps/workorders.yaml"),
    Path("policies/kubernetes/rules.yaml"),
    Path("app/main.py"),
    Path("helm-notes.md"),
]


def test_runs_over_the_chart_values_gitops_and_policies(tmp_path: Path) -> None:
    (tmp_path / "helm" / "chart").mkdir(parents=True)
    (tmp_path / "helm" / "chart" / "Chart.yaml").write_text("apiVersion: v2\nname: demo\n")
    assert KubernetesScanner(CONFIG).applies_to(tmp_path, FILES) == FILES[:5]


def test_does_not_run_without_a_chart(tmp_path: Path) -> None:
    assert KubernetesScanner(CONFIG).applies_to(tmp_path, FILES) == []


def test_no_files_in_scope_no_check(tmp_path: Path) -> None:
    assert KubernetesScanner(CONFIG).scan(tmp_path, []) == []
    assert KubernetesScanner(CONFIG).notes() == []
