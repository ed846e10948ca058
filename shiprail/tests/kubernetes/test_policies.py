"""The Rego rules: their own opa tests pass, and run shift-left through shiprail each rule
denies a manifest broken in its way while the compliant one passes every rule."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from shiprail import _subprocess
from shiprail.kubernetes import policy
from shiprail.kubernetes.manifests import Manifest
from shiprail.kubernetes.settings import KubernetesConfig

from .conftest import REPO
from conftest import require_tools

GOOD: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "api", "namespace": "team"},
    "spec": {
        "template": {
            "spec": {
                "securityContext": {"runAsNonRoot": True, "runAsUser": 10001},
                "containers": [
                    {
                        "name": "api",
                        "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/api:2.0.1",
                        "imagePullPolicy": "IfNotPresent",
                        "securityContext": {
                            "allowPrivilegeEscalation": False,
                            "readOnlyRootFilesystem": True,
                            "capabilities": {"drop": ["ALL"]},
                        },
                        "resources": {
                            "requests": {"cpu": "10m", "memory": "32Mi"},
                            "limits": {"cpu": "100m", "memory": "64Mi"},
                        },
                        "livenessProbe": {"httpGet": {"path": "/health", "port": 8000}},
                        "readinessProbe": {"httpGet": {"path": "/ready", "port": 8000}},
                    }
                ],
            }
        }
    },
}


def _container(obj: dict[str, Any]) -> dict[str, Any]:
    container: dict[str, Any] = obj["spec"]["template"]["spec"]["containers"][0]
    return container


def _pod(obj: dict[str, Any]) -> dict[str, Any]:
    pod: dict[str, Any] = obj["spec"]["template"]["spec"]
    return pod


BREAKERS: dict[str, Callable[[dict[str, Any]], None]] = {
    "requiredresources": lambda o: _container(o)["resources"].pop("limits"),
    "disallowlatest": lambda o: _container(o).update(
        image="123456789012.dkr.ecr.us-east-1.amazonaws.com/api:latest"
    ),
    "allowedregistries": lambda o: _container(o).update(image="docker.io/library/nginx:1.27"),
    "privileged": lambda o: _container(o)["securityContext"].update(privileged=True),
    "privilegeescalation": lambda o: _container(o)["securityContext"].update(
        allowPrivilegeEscalation=True
    ),
    "runasnonroot": lambda o: _pod(o)["securityContext"].update(runAsNonRoot=False),
    "readonlyrootfs": lambda o: _container(o)["securityContext"].pop("readOnlyRootFilesystem"),
    "capabilities": lambda o: _container(o)["securityContext"]["capabilities"].update(
        add=["SYS_ADMIN"]
    ),
    "hostpath": lambda o: _pod(o).update(volumes=[{"name": "host", "hostPath": {"path": "/etc"}}]),
    "hostnamespaces": lambda o: _pod(o).update(hostPID=True),
    "probes": lambda o: _container(o).pop("readinessProbe"),
    "imagepullpolicy": lambda o: _container(o).pop("imagePullPolicy"),
}


def _manifest(obj: dict[str, Any]) -> Manifest:
    return Manifest("test", "inline.yaml", 1, obj)


def test_opa_unit_tests_pass_and_cover_every_rule() -> None:
    require_tools("opa")
    result = _subprocess.run(
        ["opa", "test", "--format", "json", str(REPO / "policies" / "kubernetes")],
        ok_codes=None,
    )
    assert result.returncode == 0, result.stdout[-2000:]
    import json

    names = [t["name"] for t in json.loads(result.stdout)]
    for rule in policy.load_rules(REPO / "policies" / "kubernetes"):
        assert any(n.startswith(f"test_{rule.id}_allows") for n in names), rule.id
        assert any(n.startswith(f"test_{rule.id}_denies") for n in names), rule.id


def test_every_rule_has_a_breaker_here() -> None:
    ids = {rule.id for rule in policy.load_rules(REPO / "policies" / "kubernetes")}
    assert ids == set(BREAKERS)


def test_compliant_deployment_passes_every_rule(config: KubernetesConfig) -> None:
    require_tools("opa")
    assert policy.evaluate([_manifest(GOOD)], config, REPO) == []


@pytest.mark.parametrize("rule_id", sorted(BREAKERS))
def test_each_rule_denies_its_bad_manifest(rule_id: str, config: KubernetesConfig) -> None:
    require_tools("opa")
    bad = copy.deepcopy(GOOD)
    BREAKERS[rule_id](bad)
    violations = policy.evaluate([_manifest(GOOD), _manifest(bad)], config, REPO)
    assert violations
    assert {v.rule.id for v in violations} == {rule_id}
    assert all(v.manifest.obj is bad and "Deployment/api" in v.message for v in violations)


def test_registry_patterns_come_from_config(config: KubernetesConfig) -> None:
    require_tools("opa")
    acr_only = config.model_copy(update={"allowed_registries": [r"^[a-z0-9]+\.azurecr\.io/"]})
    violations = policy.evaluate([_manifest(GOOD)], acr_only, REPO)
    assert [v.rule.id for v in violations] == ["allowedregistries"]
    assert "azurecr" in violations[0].message


def test_catalogue_errors_name_the_file(tmp_path: Path) -> None:
    from shiprail.errors import ConfigError

    (tmp_path / "rules").mkdir()
    (tmp_path / "rules.yaml").write_text(
        "rules:\n  - {id: nope, kind: X, severity: huge, title: t}\n"
    )
    with pytest.raises(ConfigError, match=r"rules.yaml"):
        policy.load_rules(tmp_path)
