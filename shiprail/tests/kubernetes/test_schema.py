"""Schema validation: built-in kinds with kubernetes-validate, custom resources with their
upstream CRDs (strict: unknown fields are errors, as a cluster's structural schema prunes)."""

from __future__ import annotations

import copy
from pathlib import Path

import yaml

from shiprail.kubernetes import crds, schema
from shiprail.kubernetes.manifests import Manifest

from .conftest import REPO
from conftest import require_tools


def _m(obj: dict) -> Manifest:
    return Manifest("test", "inline.yaml", 1, obj)


def test_builtin_kinds_are_validated_strictly(crds_dir: Path) -> None:
    require_tools("kubernetes-validate")
    index = crds.CrdIndex.load(crds_dir)
    bad = _m(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "x"},
            "spec": {
                "replicas": "two",
                "selector": {"matchLabels": {"a": "b"}},
                "template": {
                    "metadata": {"labels": {"a": "b"}},
                    "spec": {"containers": [{"name": "c", "image": "i:1"}]},
                },
            },
        }
    )
    good = _m({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "sa"}})
    unknown = _m({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}})
    problems = schema.validate([bad, good, unknown], index, "1.31.0")
    by_object = {p.manifest.display: p for p in problems}
    assert set(by_object) == {"Deployment/x", "Widget/w"}
    assert "spec.replicas" in by_object["Deployment/x"].message
    assert "'two' is not of type 'integer'" in by_object["Deployment/x"].message
    assert by_object["Widget/w"].unvalidated


def test_custom_resources_use_their_crd_schema(crds_dir: Path) -> None:
    index = crds.CrdIndex.load(crds_dir)
    canary = yaml.safe_load((REPO / "gitops" / "flagger" / "prod" / "canary.yaml").read_text())
    assert index.validate(canary) == []
    bad = copy.deepcopy(canary)
    bad["spec"]["analysis"]["stepWeight"] = "ten"
    bad["spec"]["analysis"]["maxWieght"] = 50
    errors = {(e.path, e.message) for e in index.validate(bad)}
    assert ("spec.analysis.stepWeight", "'ten' is not of type 'number'") in errors
    assert any("maxWieght" in message for _, message in errors)


def test_httproute_from_the_chart_validates_against_gateway_api(crds_dir: Path) -> None:
    index = crds.CrdIndex.load(crds_dir)
    route = {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": "r"},
        "spec": {"parentRefs": [{"name": "gw"}], "rules": [{"backendRefs": [{"name": "s"}]}]},
    }
    assert index.knows("gateway.networking.k8s.io/v1", "HTTPRoute")
    assert index.validate(route) == []
    route["spec"]["parentRefs"] = "gw"
    assert index.validate(route)


def test_missing_crd_data_says_how_to_fetch(tmp_path: Path) -> None:
    import pytest

    from shiprail.errors import ToolMissing

    with pytest.raises(ToolMissing, match="fetch-data"):
        crds.CrdIndex.load(tmp_path / "nothing")
