"""The Gatekeeper bundle: generated from the Rego files, committed, and valid for the CRD."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from shiprail.kubernetes import crds, gatekeeper
from shiprail.kubernetes.settings import KubernetesConfig

from .conftest import REPO


def test_committed_bundle_is_up_to_date() -> None:
    assert gatekeeper.stale(KubernetesConfig(), REPO) == []


def test_templates_validate_against_the_constraint_template_crd(crds_dir: Path) -> None:
    index = crds.CrdIndex.load(crds_dir)
    text = gatekeeper.bundle(KubernetesConfig(), REPO)[gatekeeper.TEMPLATES_FILE]
    templates = [d for d in yaml.safe_load_all(text) if d]
    assert len(templates) == 12
    for template in templates:
        assert index.validate(template) == [], template["metadata"]["name"]
        source = template["spec"]["targets"][0]["code"][0]["source"]
        assert source["version"] == "v1"
        assert "violation contains" in source["rego"]
        assert source["libs"] and source["libs"][0].lstrip().startswith("#")


def test_constraints_carry_registry_parameters_from_config() -> None:
    config = KubernetesConfig(allowed_registries=[r"^example\.azurecr\.io/"])
    text = gatekeeper.bundle(config, REPO)[gatekeeper.CONSTRAINTS_FILE]
    docs = {d["kind"]: d for d in yaml.safe_load_all(text) if d}
    assert docs["ShiprailAllowedRegistries"]["spec"]["parameters"] == {
        "registries": [r"^example\.azurecr\.io/"]
    }


def test_editing_a_rule_makes_the_bundle_stale_until_rewritten(repo: Path) -> None:
    config = KubernetesConfig()
    rule = repo / "policies" / "kubernetes" / "rules" / "hostpath.rego"
    rule.write_text(rule.read_text() + "\n# changed\n")
    assert gatekeeper.stale(config, repo) == ["gitops/gatekeeper/constraint-templates.yaml"]
    gatekeeper.write(config, repo)
    assert gatekeeper.stale(config, repo) == []
    shutil.rmtree(repo / "gitops" / "gatekeeper")
    assert len(gatekeeper.stale(config, repo)) == 2


def test_gatekeeper_check_exits_1_when_stale_and_0_once_written(repo: Path) -> None:
    from typer.testing import CliRunner

    from shiprail.cli import app

    (repo / "shiprail.yaml").write_text("kubernetes: {}\n")
    check = ["k8s", "gatekeeper", "--check", "--config", str(repo / "shiprail.yaml")]
    rule = repo / "policies" / "kubernetes" / "rules" / "hostpath.rego"
    rule.write_text(rule.read_text() + "\n# changed\n")
    stale = CliRunner().invoke(app, check)
    assert stale.exit_code == 1, stale.output
    assert "stale Gatekeeper bundle" in stale.output and "--write" in stale.output
    written = CliRunner().invoke(app, ["k8s", "gatekeeper", "--write", *check[3:]])
    assert written.exit_code == 0, written.output
    fresh = CliRunner().invoke(app, check)
    assert fresh.exit_code == 0 and "up to date" in fresh.output
