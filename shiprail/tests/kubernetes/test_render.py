"""The chart, rendered by the real Helm for every environment: what the issue requires of the
Deployment and its neighbours, and readable failures for bad values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from shiprail.errors import ConfigError
from shiprail.kubernetes import render
from shiprail.kubernetes.settings import KubernetesConfig, KubernetesEnvironment

from .conftest import REPO
from conftest import require_tools


def _render(config: KubernetesConfig, env: str, root: Path = REPO) -> dict[str, dict[str, Any]]:
    rendered = render.render(config, config.environment(env), root)
    return {f"{m.kind}/{m.name}": m.obj for m in rendered.manifests}


@pytest.fixture(scope="module")
def all_envs() -> dict[str, dict[str, dict[str, Any]]]:
    require_tools("helm")
    config = KubernetesConfig()
    return {env.name: _render(config, env.name) for env in config.environments}


def test_every_environment_renders_the_restricted_deployment(all_envs: dict) -> None:
    for env, objects in all_envs.items():
        pod = objects["Deployment/workorders"]["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] == 10001
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert pod["automountServiceAccountToken"] is False
        ctx = container["securityContext"]
        assert ctx["readOnlyRootFilesystem"] is True
        assert ctx["allowPrivilegeEscalation"] is False
        assert ctx["capabilities"] == {"drop": ["ALL"]}
        assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
        assert any(v["name"] == "tmp" and "emptyDir" in v for v in pod["volumes"])
        assert container["livenessProbe"]["httpGet"]["path"] == "/health"
        assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
        assert container["startupProbe"]["httpGet"]["path"] == "/health"
        assert container["imagePullPolicy"] in ("Always", "IfNotPresent")
        assert container["ports"][0]["containerPort"] == 8000
        assert set(container["resources"]) == {"requests", "limits"}
        env_vars = {e["name"]: e for e in container["env"]}
        assert env_vars["WORKORDERS_ENV"]["value"] == env
        for secret in ("WORKORDERS_DATABASE_URL", "WORKORDERS_API_TOKEN_HASHES"):
            assert "secretKeyRef" in env_vars[secret]["valueFrom"]
        assert not [o for o in objects if o.startswith("Secret/")]
        namespace = next(o for k, o in objects.items() if k.startswith("Namespace/"))
        assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
        assert objects["ServiceAccount/workorders"]["automountServiceAccountToken"] is False
        deny = objects["NetworkPolicy/default-deny-all"]["spec"]
        assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


def test_environment_differences_come_from_values(all_envs: dict) -> None:
    prod, stage, dev = all_envs["prod"], all_envs["stage"], all_envs["dev"]
    prod_image = prod["Deployment/workorders"]["spec"]["template"]["spec"]["containers"][0]["image"]
    assert "@sha256:" in prod_image
    assert "HorizontalPodAutoscaler/workorders" in prod
    assert prod["PodDisruptionBudget/workorders"]["spec"]["minAvailable"] == 2
    assert "topologySpreadConstraints" in prod["Deployment/workorders"]["spec"]["template"]["spec"]
    # Flagger owns the Services and the route in prod
    assert "Service/workorders" not in prod and "HTTPRoute/workorders" not in prod
    assert "HTTPRoute/workorders" in stage and "Service/workorders" in stage
    assert "PrometheusRule/workorders" in stage
    assert "HorizontalPodAutoscaler/workorders" not in dev
    assert dev["Deployment/workorders"]["spec"]["replicas"] == 1


def test_prometheus_rules_are_the_monitoring_files(all_envs: dict) -> None:
    import yaml

    alerts = REPO / "monitoring" / "prometheus" / "alerts.yaml"
    assert alerts.is_file(), "the chart's PrometheusRule is built from the committed alerts"
    groups = yaml.safe_load(alerts.read_text())["groups"]
    assert all_envs["prod"]["PrometheusRule/workorders"]["spec"]["groups"] == groups


def test_network_policy_allows_gateway_database_and_dns_only(all_envs: dict) -> None:
    spec = all_envs["dev"]["NetworkPolicy/workorders"]["spec"]
    sources = [s["namespaceSelector"]["matchLabels"] for s in spec["ingress"][0]["from"]]
    assert sources == [{"kubernetes.io/metadata.name": "gateway-system"}]
    ports = sorted((p["port"], p["protocol"]) for rule in spec["egress"] for p in rule["ports"])
    assert ports == [(53, "TCP"), (53, "UDP"), (5432, "TCP")]


def _broken(repo: Path, text: str) -> tuple[KubernetesConfig, KubernetesEnvironment]:
    (repo / "helm" / "values-broken.yaml").write_text(text)
    env = KubernetesEnvironment(name="broken", values="helm/values-broken.yaml")
    return KubernetesConfig(environments=[env]), env


def test_wrong_type_in_values_fails_with_file_line_and_field(repo: Path) -> None:
    require_tools("helm")
    config, env = _broken(
        repo,
        "environment: dev\nimage:\n  repository: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/w\n"
        "  tag: '1.0'\nreplicaCount: two\n",
    )
    with pytest.raises(ConfigError) as caught:
        render.render(config, env, repo)
    message = str(caught.value)
    assert message.startswith("helm/values-broken.yaml:5: ")
    assert "/replicaCount" in message and "want integer" in message
    assert "Traceback" not in message


def test_unknown_key_and_latest_tag_are_refused(repo: Path) -> None:
    require_tools("helm")
    config, env = _broken(repo, "environment: dev\nreplicas: 3\n")
    with pytest.raises(ConfigError, match="replicas"):
        render.render(config, env, repo)
    config, env = _broken(
        repo,
        "environment: dev\nimage:\n  repository: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/w\n"
        "  tag: latest\n",
    )
    with pytest.raises(ConfigError, match='must not be "latest"'):
        render.render(config, env, repo)


def test_missing_values_file_is_a_config_error(repo: Path) -> None:
    env = KubernetesEnvironment(name="qa", values="helm/values-qa.yaml")
    with pytest.raises(ConfigError, match=r"values-qa\.yaml"):
        render.render(KubernetesConfig(environments=[env]), env, repo)
