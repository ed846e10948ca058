"""End to end: ``shiprail k8s check`` over every environment with the real tools, a broken
chart failing the gate, checkov skips that need reasons, and the ``kubernetes`` scanner."""

from __future__ import annotations

import itertools
import json
import shutil
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from shiprail.cli import app
from shiprail.errors import ConfigError
from shiprail.findings import Severity
from shiprail.kubernetes.check import committed_manifest_files, run_check
from shiprail.kubernetes.checks import checkov as checkov_k8s
from shiprail.kubernetes.manifests import Manifest, load_manifest_files
from shiprail.kubernetes.settings import KubernetesConfig
from shiprail.scan.scanners.checkov import CheckovScanner
from shiprail.scan.scanners.kubernetes import KubernetesScanner

from .conftest import REPO
from conftest import require_tools

ALL_TOOLS = ("helm", "opa", "kubernetes-validate", "checkov")


def test_repository_passes_with_zero_blocking_findings(crds_dir: Path) -> None:
    require_tools(*ALL_TOOLS)
    result = CliRunner().invoke(app, ["k8s", "check", "--json", "--crds", str(crds_dir)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["blocking"] == 0
    assert set(report["environments"]) == {"dev", "stage", "prod"}
    assert all(report["objects"][env] > 5 for env in ("dev", "stage", "prod"))
    assert report["objects"]["gitops"] > 0
    assert "crds" in report["data"]
    # every checkov exception is a documented skip, never a silent pass
    assert all(s["reason"] for s in report["suppressed"])


def _break_chart(repo: Path) -> None:
    deployment = repo / "helm" / "chart" / "templates" / "deployment.yaml"
    text = deployment.read_text()
    text = text.replace("privileged: false", "privileged: true")
    text = text.replace("readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false")
    deployment.write_text(text)


def test_broken_chart_fails_the_gate_on_policy_and_checkov(repo: Path, crds_dir: Path) -> None:
    require_tools(*ALL_TOOLS)
    _break_chart(repo)
    (repo / "shiprail.yaml").write_text(
        "kubernetes:\n  environments:\n    - {name: dev, values: helm/values-dev.yaml}\n"
    )
    result = CliRunner().invoke(
        app,
        [
            "k8s",
            "check",
            "--json",
            "--config",
            str(repo / "shiprail.yaml"),
            "--crds",
            str(crds_dir),
        ],
    )
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    rules = {f["rule"] for f in report["findings"] if f["blocking"]}
    assert {"k8s-policy-privileged", "k8s-policy-readonlyrootfs"} <= rules
    assert "CKV_K8S_16" in rules  # checkov: privileged containers
    privileged = next(f for f in report["findings"] if f["rule"] == "k8s-policy-privileged")
    assert privileged["path"] == "helm/chart/templates/deployment.yaml"
    assert privileged["line"] > 1
    assert "blocking Kubernetes finding" in result.output


def test_broken_values_file_fails_with_a_readable_message(repo: Path, crds_dir: Path) -> None:
    require_tools("helm", "opa", "kubernetes-validate")
    (repo / "helm" / "values-dev.yaml").write_text(
        (repo / "helm" / "values-dev.yaml").read_text() + "autoscaling:\n  maxReplicas: many\n"
    )
    config = KubernetesConfig(crds=str(crds_dir), checkov=False)
    report = run_check(config, repo, ["dev"])
    (finding,) = [f for f in report.blocking if f.rule.id == "k8s-render"]
    assert finding.path == "helm/values-dev.yaml"
    assert finding.start_line > 1
    assert "/autoscaling/maxReplicas" in finding.message and "want integer" in finding.message
    (repo / "shiprail.yaml").write_text("kubernetes:\n  checkov: false\n")
    result = CliRunner().invoke(
        app,
        ["k8s", "check", "--env", "dev", "--config", str(repo / "shiprail.yaml")],
        env={"SHIPRAIL_CRDS": str(crds_dir)},
    )
    assert result.exit_code == 1
    assert "helm/values-dev.yaml" in result.output and "maxReplicas" in result.output
    assert "Traceback" not in result.output


def test_threshold_decides_what_blocks(repo: Path, crds_dir: Path) -> None:
    require_tools("helm", "opa", "kubernetes-validate")
    deployment = repo / "helm" / "chart" / "templates" / "deployment.yaml"
    deployment.write_text(deployment.read_text().replace("readinessProbe:", "readinessProbeX:"))
    strict = run_check(KubernetesConfig(crds=str(crds_dir), checkov=False), repo, ["dev"])
    assert any(f.rule.id == "k8s-schema" for f in strict.blocking)
    lenient = run_check(
        KubernetesConfig(crds=str(crds_dir), checkov=False, fail_on="critical"), repo, ["dev"]
    )
    assert lenient.findings and not lenient.blocking


def test_checkov_skips_need_a_reason_and_can_target_environments(tmp_path: Path) -> None:
    path = tmp_path / "checkov.yaml"
    path.write_text("skip:\n  - id: CKV_K8S_35\n")
    with pytest.raises(ConfigError, match="reason"):
        checkov_k8s.load_policy(path, "checkov.yaml")
    path.write_text(
        yaml.safe_dump(
            {
                "default_severity": "high",
                "severity": {"CKV_K8S_21": "low"},
                "skip": [
                    {
                        "id": "CKV_K8S_43",
                        "reason": "tags are immutable here",
                        "environments": ["dev"],
                    }
                ],
            }
        )
    )
    policy = checkov_k8s.load_policy(path, "checkov.yaml")
    assert policy.skip_for("CKV_K8S_43", "dev") is not None
    assert policy.skip_for("CKV_K8S_43", "prod") is None
    assert (policy.severity_of("CKV_K8S_21"), policy.severity_of("CKV_K8S_1")) == ("low", "high")


def test_checkov_reports_a_bad_pod() -> None:
    require_tools("checkov")
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "bad", "namespace": "team"},
        "spec": {
            "hostNetwork": True,
            "containers": [
                {"name": "c", "image": "nginx", "securityContext": {"privileged": True}}
            ],
        },
    }
    results = checkov_k8s.run([Manifest("dev", "pod.yaml", 1, pod)], checkov_k8s.CheckovPolicy())
    ids = {r.check_id for r in results}
    assert {"CKV_K8S_16", "CKV_K8S_19"} <= ids  # privileged, hostNetwork
    assert all(r.manifest.display == "Pod/bad" for r in results)


def test_kubernetes_scanner_returns_findings_through_the_interface(
    repo: Path, crds_dir: Path
) -> None:
    require_tools("helm", "opa", "kubernetes-validate")
    _break_chart(repo)
    config = KubernetesConfig(
        crds=str(crds_dir),
        checkov=False,
        environments=[{"name": "stage", "values": "helm/values-stage.yaml"}],
    )
    scanner = KubernetesScanner(config)
    files = [p.relative_to(repo) for p in repo.rglob("*") if p.is_file()]
    applies = scanner.applies_to(repo, files)
    assert Path("helm/chart/templates/deployment.yaml") in applies
    assert Path("tools.lock") not in applies
    findings = scanner.scan(repo, applies)
    privileged = [f for f in findings if f.rule.id == "k8s-policy-privileged"]
    assert privileged and privileged[0].severity is Severity.critical
    assert privileged[0].tool == "kubernetes"
    assert privileged[0].properties["environment"] == "stage"
    assert scanner.scan(repo, []) == []
    assert KubernetesScanner(config).applies_to(repo / "nothing", files) == []


def test_terraform_modules_are_formatted_and_pass_checkov(tmp_path: Path) -> None:
    require_tools("terraform", "checkov")
    from shiprail.kubernetes.checks import terraform

    assert terraform.unformatted(REPO, "terraform") == []
    assert terraform.scan_with_checkov(REPO, "terraform") == []
    bad = tmp_path / "tf"
    bad.mkdir()
    (bad / "main.tf").write_text(
        'resource "aws_s3_bucket" "b" {\nbucket="x"\n}\n'
        'resource "aws_ecr_repository" "r" {\n  name = "r"\n}\n'
    )
    assert terraform.unformatted(tmp_path, "tf") == ["tf/main.tf"]
    problems = terraform.scan_with_checkov(tmp_path, "tf")
    assert any(p.check_id == "CKV_AWS_51" for p in problems)  # ECR tags must be immutable
    assert all(p.path == "tf/main.tf" and p.line >= 1 for p in problems)


class CountingCheckov:
    """A checkov runner that records which repository files each run reads: files and
    repository directories by path, the objects copied to a temporary directory by the
    committed file they come from (rendered chart objects count as one entry)."""

    def __init__(self, committed: list[Manifest]) -> None:
        self.committed = committed
        self.runs: list[list[str]] = []

    def __call__(self, args: Sequence[str], cwd: Path, timeout: float) -> str:
        scanned: list[str] = []
        for flag, value in itertools.pairwise(args):
            if flag == "-f":
                scanned.append(value)
            elif flag == "-d" and not Path(value).is_absolute():
                base = cwd / value
                scanned += [p.relative_to(cwd).as_posix() for p in base.rglob("*") if p.is_file()]
            elif flag == "-d":
                scanned += self._objects(Path(value))
        self.runs.append(scanned)
        return "{}"

    def _objects(self, directory: Path) -> list[str]:
        out = (
            {"<rendered chart>"}
            if any(p.parent.name != "gitops" for p in directory.rglob("*.yaml"))
            else set()
        )
        for path in (directory / "gitops").glob("*.yaml"):
            obj = yaml.safe_load(path.read_text())
            out |= {m.source for m in self.committed if m.obj == obj}
        return sorted(out)

    def counts(self) -> Counter[str]:
        return Counter(path for run in self.runs for path in run)


def _committed(repo: Path, config: KubernetesConfig) -> list[Manifest]:
    return load_manifest_files(repo, committed_manifest_files(repo, config), "gitops")


def test_one_scan_runs_checkov_once_over_each_path(repo: Path, crds_dir: Path) -> None:
    require_tools("helm", "opa", "kubernetes-validate")
    shutil.copytree(REPO / "terraform", repo / "terraform")
    files = [p.relative_to(repo) for p in repo.rglob("*") if p.is_file()]
    config = KubernetesConfig(crds=str(crds_dir))
    runner = CountingCheckov(_committed(repo, config))
    for scanner in (CheckovScanner(runner=runner), KubernetesScanner(config, runner)):
        scanner.scan(repo, scanner.applies_to(repo, files))
    counts = runner.counts()
    terraform = [f.as_posix() for f in files if f.suffix == ".tf"]
    gitops = sorted({m.source for m in _committed(repo, config)})
    assert terraform and gitops
    assert {path: counts[path] for path in terraform + gitops} == dict.fromkeys(
        terraform + gitops, 1
    )
    assert counts["<rendered chart>"] == 1


def test_the_scans_units_start_checkov_once_for_every_environment(
    repo: Path, crds_dir: Path
) -> None:
    """``shiprail scan`` checks each environment in a unit of its own; checkov (whose start
    costs more than the rest of an environment's checks) runs in one unit over them all."""
    require_tools("helm", "opa", "kubernetes-validate")
    shutil.copytree(REPO / "terraform", repo / "terraform")
    files = [p.relative_to(repo) for p in repo.rglob("*") if p.is_file()]
    config = KubernetesConfig(crds=str(crds_dir))
    runner = CountingCheckov(_committed(repo, config))
    scanner = KubernetesScanner(config, runner)
    units = scanner.units(repo, scanner.applies_to(repo, files)) or []
    assert {u.name for u in units} >= {f"env-{e.name}" for e in config.environments}
    for unit in units:
        scanner.scan_unit(repo, unit)
    assert len(runner.runs) == 1  # Terraform and most manifests are the checkov scanner's
    assert runner.counts()["<rendered chart>"] == 1
    without = KubernetesScanner(config.model_copy(update={"checkov": False}), runner)
    assert "checkov" not in {u.name for u in without.units(repo, files) or []}


def test_k8s_check_alone_still_runs_checkov_over_terraform_and_gitops(
    repo: Path, crds_dir: Path
) -> None:
    require_tools("helm", "opa", "kubernetes-validate")
    shutil.copytree(REPO / "terraform", repo / "terraform")
    config = KubernetesConfig(crds=str(crds_dir))
    committed = _committed(repo, config)
    runner = CountingCheckov(committed)
    run_check(config, repo, ["dev"], checkov_runner=runner)
    counts = runner.counts()
    assert len(runner.runs) == 2  # the objects (rendered and committed) in one run, Terraform
    assert counts["<rendered chart>"] == 1
    assert all(counts[m.source] == 1 for m in committed)
    assert counts["terraform/modules/aws/eks/main.tf"] == 1
