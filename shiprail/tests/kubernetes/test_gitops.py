"""The GitOps manifests: what the issue asks of them, and the promotion contract check."""

from __future__ import annotations

import copy
from pathlib import Path

import yaml

from shiprail.kubernetes import gitops
from shiprail.kubernetes.manifests import Manifest, load_manifest_files

from .conftest import REPO


def _load(rel: str) -> list[Manifest]:
    return load_manifest_files(REPO, [Path(rel)], "gitops")


def test_canary_analysis_matches_the_release_policy() -> None:
    (canary,) = _load("gitops/flagger/prod/canary.yaml")
    spec = canary.obj["spec"]
    assert spec["provider"].startswith("gatewayapi")
    analysis = spec["analysis"]
    assert (analysis["stepWeight"], analysis["maxWeight"], analysis["threshold"]) == (10, 50, 5)
    assert analysis["interval"] == "1m"
    metrics = {m["name"]: m["thresholdRange"] for m in analysis["metrics"]}
    assert metrics == {"request-success-rate": {"min": 99}, "request-duration": {"max": 500}}
    assert [w["type"] for w in analysis["webhooks"]] == ["pre-rollout"]


def test_committed_applicationset_keeps_the_promotion_contract() -> None:
    manifests = _load("gitops/argocd/applicationset.yaml")
    assert gitops.check_promotion(manifests) == []


def test_promotion_contract_violations_are_reported() -> None:
    (appset,) = _load("gitops/argocd/applicationset.yaml")
    obj = copy.deepcopy(appset.obj)
    elements = obj["spec"]["generators"][0]["matrix"]["generators"][0]["list"]["elements"]
    for element in elements:
        if element["env"] == "prod":
            element.update(revision="main", autoSync=True)
        if element["env"] == "stage":
            element["revision"] = "release/*"
    messages = [p.message for p in gitops.check_promotion([Manifest("gitops", "a.yaml", 1, obj)])]
    assert any("prod deploys revision 'main'" in m for m in messages)
    assert any("prod must sync manually" in m for m in messages)
    assert any("stage deploys revision 'release/*'" in m for m in messages)


def test_dev_has_image_updater_and_prod_syncs_flagger() -> None:
    text = (REPO / "gitops" / "argocd" / "applicationset.yaml").read_text()
    patch = yaml.safe_load(text)["spec"]["templatePatch"]
    assert "argocd-image-updater.argoproj.io/image-list" in patch
    assert "gitops/flagger/prod" in patch
