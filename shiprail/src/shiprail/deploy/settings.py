"""The ``environments:`` section of ``shiprail.yaml`` and where deploy keeps its state.

Without a ``shiprail.yaml`` (the embedded default) there are three environments on the local
Docker Engine: dev (no approval), stage and prod (promotion needs an approval), each behind
its own edge proxy on a loopback HTTPS port.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from shiprail.naming import Scope
from shiprail.settings import get_settings
from shiprail.strict import StrictModel

_NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}$")
_MEMORY = re.compile(r"^(\d+)([kmg]?)b?$", re.I)
_REGISTRY = re.compile(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?$", re.I)
#: ``registry: local``: the registry ``shiprail registry up`` runs on 127.0.0.1.
LOCAL_REGISTRY = "local"
#: The environments that may deploy without verification, and only when they say so: dev,
#: and per-person dev environments named ``dev-<who>``.
UNVERIFIED_ALLOWED = "dev"


def may_skip_verification(environment: str) -> bool:
    return environment == UNVERIFIED_ALLOWED or environment.startswith(f"{UNVERIFIED_ALLOWED}-")


class HealthCheck(StrictModel):
    """How the container health check probes a replica, and how long deploy waits for it."""

    path: str = "/ready"
    timeout_seconds: float = Field(default=60.0, gt=0)
    interval_seconds: float = Field(default=1.0, gt=0)


class SmokeCheck(StrictModel):
    """One request sent to every replica of the new colour before any traffic reaches it."""

    path: str
    method: Literal["GET", "HEAD"] = "GET"
    status: int = 200
    contains: str | None = Field(default=None, description="text the body must contain")
    max_latency_ms: int = Field(default=1000, gt=0)


class SecretRef(StrictModel):
    """A secret read at deploy time from a file or an environment variable (exactly one).

    It is mounted read-only as ``/run/secrets/<name>`` in the container; it never enters an
    image, an environment variable, the ledger or the output.
    """

    file: str | None = None
    env: str | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> SecretRef:
        if (self.file is None) == (self.env is None):
            raise ValueError("a secret needs exactly one of 'file' or 'env'")
        return self


class WatchConfig(StrictModel):
    """The post-switch watch: how long, how often, and the limits that trigger a rollback."""

    window_seconds: float = Field(default=20.0, ge=0)
    interval_seconds: float = Field(default=2.0, gt=0)
    max_error_ratio: float = Field(default=0.05, ge=0, le=1)
    max_p95_seconds: float = Field(default=0.5, gt=0)
    min_requests: int = Field(default=20, ge=0)


class TlsConfig(StrictModel):
    """Certificate files; when both are absent a local CA (``.shiprail/edge/ca``) issues one."""

    cert_file: str | None = None
    key_file: str | None = None

    @model_validator(mode="after")
    def _both_or_neither(self) -> TlsConfig:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("set both 'cert_file' and 'key_file', or neither (local CA)")
        return self


class BasicAuth(StrictModel):
    """HTTP basic auth at the edge; ``htpasswd_file`` as made by ``openssl passwd -apr1``.

    With ``generate: true`` a missing file is created with user ``admin`` and a random
    password stored beside it (``<file>.password``, mode 0600) — for the demo only.
    """

    htpasswd_file: str
    generate: bool = False


class EdgeConfig(StrictModel):
    """The edge proxy in front of the environment: TLS on ``port`` only (port 80 is closed)."""

    router: Literal["nginx", "traefik"] = "nginx"
    hostname: str = "localhost"
    bind: str = "127.0.0.1"
    port: int = Field(default=8443, ge=1, le=65535)
    tls: TlsConfig = TlsConfig()
    basic_auth: BasicAuth | None = None
    traefik_dynamic_dir: str = Field(
        default="compose/traefik/dynamic",
        description="where the traefik router writes its file-provider configuration",
    )


class MetricCheck(StrictModel):
    """One canary analysis check: a PromQL template and the bound its value must respect.

    The template may use ``{environment}``, ``{release}`` (the canary's release label) and
    ``{interval}`` (the analysis interval as a PromQL duration, e.g. ``30s``)."""

    name: str
    query: str
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _bounded(self) -> MetricCheck:
        if self.min is None and self.max is None:
            raise ValueError(f"metric check '{self.name}' needs min or max")
        return self


#: Routes that are probes and scrapes, not users: the route templates the service labels
#: them with. Docker's health probe (``/ready``) and Prometheus' scrape (``/metrics``) always
#: succeed and would dilute a canary's success rate; the replicas' own /metrics analysis
#: leaves out the same routes.
PROBE_ROUTES = "/health|/ready|/metrics|/version"
#: The label matchers of a canary's user traffic (formatted later with environment, release).
_USER_TRAFFIC = 'environment="{environment}",release="{release}",route!~"' + PROBE_ROUTES + '"'


def _flagger_checks() -> list[MetricCheck]:
    """Flagger's built-in checks: request success rate >= 99 %, p99 latency <= 500 ms, over
    the canary's user traffic (probe routes left out)."""
    return [
        MetricCheck(
            name="request-success-rate",
            query=(
                "sum(rate(http_requests_total{{" + _USER_TRAFFIC + ',status!~"5.."}}[{interval}]))'
                " / sum(rate(http_requests_total{{" + _USER_TRAFFIC + "}}[{interval}])) * 100"
            ),
            min=99.0,
        ),
        MetricCheck(
            name="request-duration",
            query=(
                "histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket"
                "{{" + _USER_TRAFFIC + "}}[{interval}]))) * 1000"
            ),
            max=500.0,
        ),
    ]


class StickyConfig(StrictModel):
    """Keep a client on one side of a canary split, by a request header or else a cookie."""

    header: str | None = None
    cookie: str | None = None


class SyntheticLoad(StrictModel):
    """Requests shiprail sends through the edge during a canary, for quiet services."""

    rate_per_second: float = Field(default=5.0, gt=0, le=200)
    paths: list[str] = Field(default_factory=lambda: ["/health"])


class CanaryConfig(StrictModel):
    """``strategy: canary``: traffic steps, analysis cadence and checks (Flagger's defaults)."""

    steps: list[Annotated[int, Field(ge=1, le=100)]] = Field(
        default_factory=lambda: [10, 25, 50, 100]
    )
    interval_seconds: float = Field(default=30.0, gt=0)
    threshold: int = Field(default=2, ge=1, description="failed checks before abort")
    min_requests: int = Field(
        default=20, ge=0, description="fewer canary requests in an interval: pause, no verdict"
    )
    max_paused_intervals: int = Field(
        default=10, ge=1, description="intervals a step may pause for lack of traffic"
    )
    checks: list[MetricCheck] = Field(default_factory=_flagger_checks)
    sticky: StickyConfig | None = None
    synthetic_load: SyntheticLoad | None = None

    @field_validator("steps")
    @classmethod
    def _increasing(cls, value: list[int]) -> list[int]:
        if not value or value != sorted(set(value)) or value[-1] != 100:
            raise ValueError("steps must increase strictly and end at 100")
        return value


class KubernetesTarget(StrictModel):
    """``kubernetes:`` of an environment: its releases are revisions of one Helm release on a
    cluster instead of containers on a Docker Engine. The engine, ledger, approvals, locks,
    verification and DORA figures are the same; the chart and values files are the ones
    ``shiprail k8s check`` checks (docs/kubernetes-local.md)."""

    kubeconfig: str | None = Field(
        default=None,
        description="kubeconfig file, repo-relative or absolute; 'local' for the cluster of "
        "`shiprail k8s cluster up`; default: $KUBECONFIG, then ~/.kube/config",
    )
    context: str | None = Field(default=None, description="kubeconfig context (default: current)")
    namespace: str = Field(
        pattern=r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$",
        description="namespace of the service's pods (the values files' namespace.name)",
    )
    values: list[str] = Field(min_length=1, description="values files, repo-relative, in order")
    chart: str = "helm/chart"
    release: str | None = Field(default=None, description="Helm release (default: <service>-<env>)")
    release_namespace: str = Field(
        default="shiprail-releases", description="where Helm keeps the release record"
    )

    @property
    def local(self) -> bool:
        """The cluster of ``shiprail k8s cluster up``: images are loaded into it from here."""
        return self.kubeconfig == "local"


class EnvironmentConfig(StrictModel):
    target: str = Field(default="local", description="'local' or ssh://user@host")
    replicas: int = Field(default=2, ge=1, le=20)
    cpus: float = Field(default=1.0, gt=0)
    memory: str = "256m"
    env: dict[str, str] = Field(default_factory=dict)
    secrets: dict[str, SecretRef] = Field(default_factory=dict)
    edge: EdgeConfig = EdgeConfig()
    health: HealthCheck = HealthCheck()
    smoke: list[SmokeCheck] = Field(
        default_factory=lambda: [SmokeCheck(path="/health"), SmokeCheck(path="/ready")]
    )
    strategy: Literal["blue-green", "canary"] = "blue-green"
    canary: CanaryConfig = CanaryConfig()
    requires_approval: bool = False
    requires_approvals: int = Field(
        default=0,
        ge=0,
        le=10,
        description="distinct approvers a promotion needs (four eyes: never the deployer or"
        " the promoter); 1 or more implies requires_approval",
    )
    drain_seconds: float = Field(default=3.0, ge=0)
    keep_releases: int = Field(default=3, ge=1, description="releases kept for instant rollback")
    previous: Literal["stopped", "warm"] = Field(
        default="stopped",
        description="after a deploy, the previous release is stopped (rollback restarts it) or "
        "kept running without traffic (warm: rollback is a switch, at twice the resources)",
    )
    watch: WatchConfig = WatchConfig()
    network: str | None = Field(
        default=None, description="default shiprail-<service>-<environment>"
    )
    container_port: int = 8000
    pre_start: list[str] | None = Field(
        default_factory=lambda: ["migrate"],
        description="one-off command (image entrypoint arguments) run before the replicas start",
    )
    registry: str | None = Field(
        default=LOCAL_REGISTRY,
        description="where releases are pulled from, by digest: 'local' (shiprail registry up)"
        " or a registry host such as <account>.dkr.ecr.<region>.amazonaws.com; null: the"
        " target engine's own images (only with verify: false)",
    )
    verify: bool = Field(
        default=True,
        description="verify signature, provenance and scan before any container starts;"
        " only dev may turn it off",
    )
    kubernetes: KubernetesTarget | None = Field(
        default=None, description="deploy with Helm to a Kubernetes cluster instead of Docker"
    )

    @field_validator("registry")
    @classmethod
    def _registry(cls, value: str | None) -> str | None:
        if value is not None and not _REGISTRY.match(value):
            raise ValueError("registry must be 'local' or a host[:port] such as ghcr.io")
        return value

    @model_validator(mode="after")
    def _verification_has_a_registry(self) -> EnvironmentConfig:
        if self.verify and self.registry is None:
            raise ValueError(
                "verification needs a registry (signatures live there): set registry: local "
                "(shiprail registry up) or a registry host"
            )
        return self

    @model_validator(mode="after")
    def _kubernetes_rolls_out_with_helm(self) -> EnvironmentConfig:
        if self.kubernetes is not None and self.strategy == "canary":
            raise ValueError(
                "strategy: canary is not available with kubernetes: (Helm rolls the pods out; "
                "progressive delivery on a cluster is Flagger's, gitops/flagger/)"
            )
        return self

    @model_validator(mode="before")
    @classmethod
    def _approvals_imply_approval(cls, data: Any) -> Any:
        """``requires_approvals: N`` (N >= 1) turns ``requires_approval`` on; saying both
        ``requires_approval: false`` and N >= 1 is a contradiction, reported as such."""
        if not isinstance(data, dict):
            return data
        count = data.get("requires_approvals", 0)
        if isinstance(count, int) and not isinstance(count, bool) and count >= 1:
            if data.get("requires_approval") is False:
                raise ValueError(
                    f"requires_approval: false contradicts requires_approvals: {count}; "
                    "drop one of them"
                )
            data = {**data, "requires_approval": True}
        return data

    @property
    def approvals_needed(self) -> int:
        """How many distinct approvers a promotion into this environment needs (0: none)."""
        if not self.requires_approval:
            return 0
        return max(self.requires_approvals, 1)

    @field_validator("target")
    @classmethod
    def _target(cls, value: str) -> str:
        if value != "local" and not value.startswith(("ssh://", "unix://", "tcp://")):
            raise ValueError("target must be 'local', ssh://user@host, unix:// or tcp://")
        return value

    @field_validator("memory")
    @classmethod
    def _memory(cls, value: str) -> str:
        if not _MEMORY.match(value.strip()):
            raise ValueError("memory must look like 256m, 1g or 500000k")
        return value

    @field_validator("secrets")
    @classmethod
    def _secret_names(cls, value: dict[str, SecretRef]) -> dict[str, SecretRef]:
        for name in value:
            if not re.match(r"^[A-Za-z0-9_.-]{1,64}$", name) or name in {".", ".."}:
                raise ValueError(f"secret name '{name}' must be a plain file name")
        return value

    @property
    def memory_bytes(self) -> int:
        match = _MEMORY.match(self.memory.strip())
        assert match is not None
        factor = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[match.group(2).lower()]
        return int(match.group(1)) * factor

    def network_name(self, environment: str, service: str) -> str:
        return self.network or Scope(service, environment).network


def default_environments() -> dict[str, EnvironmentConfig]:
    """The embedded default: dev, stage and prod on the local engine, approvals for stage/prod."""

    def edge(name: str, port: int) -> EdgeConfig:
        return EdgeConfig(hostname=f"{name}.localhost", port=port)

    return {
        "dev": EnvironmentConfig(edge=edge("dev", 8443), env={"WORKORDERS_ENV": "dev"}),
        "stage": EnvironmentConfig(
            edge=edge("stage", 8444), env={"WORKORDERS_ENV": "stage"}, requires_approval=True
        ),
        "prod": EnvironmentConfig(
            edge=edge("prod", 8445), env={"WORKORDERS_ENV": "prod"}, requires_approval=True
        ),
    }


def check_environment_names(value: dict[str, EnvironmentConfig]) -> dict[str, EnvironmentConfig]:
    """Names are plain, and verification is off only where it may be (dev, explicitly)."""
    for name, cfg in value.items():
        if not _NAME.match(name):
            raise ValueError(f"environment name '{name}' must match [a-z][a-z0-9-]*")
        if not cfg.verify and not may_skip_verification(name):
            raise ValueError(
                f"{name}: verify: false is allowed only for dev (or dev-<name>); every other "
                "environment verifies signature, provenance and scan before deploying"
            )
    return value


Environments = Annotated[dict[str, EnvironmentConfig], AfterValidator(check_environment_names)]


def state_dir() -> Path:
    """Where deploy keeps generated proxy config, certificates and secrets (``.shiprail/``)."""
    from shiprail.paths import repo_root

    if directory := get_settings().state_dir:
        return directory
    return repo_root() / ".shiprail"


def default_database_url() -> str:
    if url := get_settings().database_url:
        return url
    return f"sqlite:///{state_dir() / 'state.db'}"
