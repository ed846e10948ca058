"""The ``kubernetes:`` section of ``shiprail.yaml``.

Defaults describe this repository's layout, so a missing section still checks everything.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from shiprail.strict import StrictModel

SeverityName = Literal["critical", "high", "medium", "low"]

#: ECR (any account and region) and ACR registries; anchored, matched against the image.
DEFAULT_REGISTRIES = (
    r"^[0-9]{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com/",
    r"^[a-z0-9]{5,50}\.azurecr\.io/",
)


class KubernetesEnvironment(StrictModel):
    name: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    values: str = Field(description="Values file of this environment, repo-relative")


def _default_environments() -> list[KubernetesEnvironment]:
    return [
        KubernetesEnvironment(name=name, values=f"helm/values-{name}.yaml")
        for name in ("dev", "stage", "prod")
    ]


class KubernetesConfig(StrictModel):
    chart: str = "helm/chart"
    release: str = "workorders"
    #: where Helm keeps the release record; the chart owns the application namespace
    release_namespace: str = "shiprail-releases"
    environments: list[KubernetesEnvironment] = Field(default_factory=_default_environments)
    kubernetes_version: str = Field(default="1.31.0", pattern=r"^1\.[0-9]+\.[0-9]+$")
    allowed_registries: list[str] = Field(default_factory=lambda: list(DEFAULT_REGISTRIES))
    allowed_capabilities: list[str] = Field(default_factory=list)
    policies: str = "policies/kubernetes"
    gitops: str = "gitops"
    #: where the generated Gatekeeper ConstraintTemplates and Constraints are committed
    gatekeeper: str = "gitops/gatekeeper"
    #: where the generated ValidatingAdmissionPolicies (the same rules in CEL) are committed
    admission: str = "gitops/admission"
    #: CRDs (Argo CD, Flagger, Gateway API, Gatekeeper) fetched by scripts/fetch-data.sh
    crds: str = ".cache/data/crds"
    #: the Terraform of the cloud path (fmt -check and checkov); None to skip
    terraform: str | None = "terraform"
    #: rule file passed to the chart's PrometheusRule (None: the chart's own value)
    prometheus_rules: str | None = "monitoring/prometheus/alerts.yaml"
    #: findings at or above this severity block
    fail_on: SeverityName = "medium"
    checkov: bool = True

    @field_validator("allowed_registries")
    @classmethod
    def _anchored(cls, value: list[str]) -> list[str]:
        import re

        for pattern in value:
            if not pattern.startswith("^"):
                raise ValueError(f"registry pattern {pattern!r} must be anchored with ^")
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"registry pattern {pattern!r} is not a regex: {exc}") from None
        return value

    def environment(self, name: str) -> KubernetesEnvironment:
        for env in self.environments:
            if env.name == name:
                return env
        known = ", ".join(e.name for e in self.environments)
        from shiprail.errors import UsageError

        raise UsageError(f"unknown environment '{name}' (known: {known})")
