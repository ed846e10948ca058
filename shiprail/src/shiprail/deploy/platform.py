"""What the release engine acts on, per environment: a target, an edge router, an analysis
(the blue/green watch), a metric source (canary checks), and optionally a client for the edge
(synthetic load) and an announcer of aborted canaries (Alertmanager).

The engine sees only these interfaces, handed in as a :class:`Platform`: tests pass fakes,
and :func:`docker_platform` wires the real ones (Docker Engine, nginx or Traefik,
Prometheus or the replicas' /metrics).
"""

from __future__ import annotations

import contextlib
import functools
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from shiprail.deploy.analysis.interface import Analysis, MetricSource
from shiprail.deploy.routers.edge_bans import Ban
from shiprail.deploy.routers.interface import Router
from shiprail.deploy.settings import EnvironmentConfig
from shiprail.deploy.targets.interface import Target
from shiprail.deploy.trust import ImageTrust
from shiprail.naming import DEFAULT_SERVICE, Scope

if TYPE_CHECKING:
    from shiprail._docker import DockerClient


@dataclass
class Platform:
    """Factories for the things the engine acts on, per environment."""

    target: Callable[[str, EnvironmentConfig], Target]
    router: Callable[[str, EnvironmentConfig, Target], Router]
    analysis: Callable[[], Analysis]
    metrics: Callable[[], MetricSource] | None = None
    #: A client whose base URL is the environment's edge (synthetic canary load).
    edge_client: Callable[[str, EnvironmentConfig], httpx.Client] | None = None
    #: Tell the monitoring an aborted canary: (environment, release, reason) → problem or None.
    announce: Callable[[str, str, str], str | None] | None = None
    #: Admits images before anything starts (``shiprail.image.trust`` in production); with
    #: none, the engine refuses every image rather than start an unverified one.
    trust: ImageTrust | None = None
    #: Addresses the edge refuses for failed sign-ins (``shiprail status``); None: unknown.
    bans: Callable[[str, EnvironmentConfig], list[Ban]] | None = None


def docker_platform(
    root: Path,
    state: Path,
    prometheus_url: str | None = None,
    alertmanager_url: str | None = None,
    trust: ImageTrust | None = None,
    service: str = DEFAULT_SERVICE,
) -> Platform:
    """The real platform for ``service`` (resources named by :class:`Scope`): Docker Engine
    targets, nginx/Traefik routers, and the watch and
    canary checks read from Prometheus when ``monitoring.prometheus_url`` is set, else from
    the replicas' /metrics; aborted canaries posted to ``monitoring.alertmanager_url``."""
    clients: dict[str, DockerClient] = {}

    def client(name: str) -> DockerClient:
        """One client per engine (``local`` or an ``ssh://`` URL), shared by target and edge."""
        from shiprail.deploy.targets.docker import connect

        if name not in clients:
            clients[name] = connect(name)
        return clients[name]

    load = functools.partial(load_into_local_cluster, state, client)
    clusters: dict[str, Target] = {}  # one target, so one API proxy, per environment

    def target(environment: str, cfg: EnvironmentConfig) -> Target:
        if cfg.kubernetes is not None:
            scope = Scope(service, environment)
            made = clusters.get(environment) or kubernetes_target(root, state, scope, cfg, load)
            return clusters.setdefault(environment, made)
        from shiprail.deploy.targets.docker import DockerTarget

        return DockerTarget(client(cfg.target), service=service)

    def router(environment: str, cfg: EnvironmentConfig, target_: Target) -> Router:
        if cfg.kubernetes is not None:
            return service_router(target_)
        engine = functools.partial(client, cfg.target)
        return edge_router(root, state, Scope(service, environment), cfg, engine)

    def analysis() -> Analysis:
        if prometheus_url:
            from shiprail.deploy.analysis.prometheus import PrometheusAnalysis
            from shiprail.observe.promapi import PrometheusAPI

            return PrometheusAnalysis(PrometheusAPI(prometheus_url))
        from shiprail.deploy.analysis.metrics import MetricsAnalysis

        return MetricsAnalysis()

    def metrics() -> MetricSource:
        if prometheus_url:
            from shiprail.deploy.analysis.prometheus import PrometheusMetricSource
            from shiprail.observe.promapi import PrometheusAPI

            return PrometheusMetricSource(PrometheusAPI(prometheus_url))
        from shiprail.deploy.analysis.metrics import ReplicaMetricSource

        return ReplicaMetricSource()

    announce = None
    if alertmanager_url:
        from shiprail.deploy.analysis.alertmanager import post_canary_aborted

        announce = functools.partial(post_canary_aborted, alertmanager_url)

    def bans(environment: str, cfg: EnvironmentConfig) -> list[Ban]:
        if cfg.edge.router != "nginx" or cfg.kubernetes is not None:
            return []
        from shiprail.deploy.routers.nginx import read_bans

        return read_bans(client(cfg.target), cfg.edge.port, Scope(service, environment).site)

    edge = functools.partial(edge_client, state)
    return Platform(target, router, analysis, metrics, edge, announce, trust, bans)


def kubernetes_target(
    root: Path,
    state: Path,
    scope: Scope,
    cfg: EnvironmentConfig,
    load_local: Callable[[str, dict[str, str] | None], None],
) -> Target:
    """The environment's Helm release on its cluster; a ``local`` cluster gets each image
    loaded into it (``load_local``), any other pulls by digest from the registry."""
    from shiprail.deploy.targets.kubernetes import KubernetesTarget

    settings = cfg.kubernetes
    assert settings is not None
    kubeconfig: Path | None = None
    if settings.local:
        kubeconfig = state / "k8s" / "kubeconfig"
    elif settings.kubeconfig is not None:
        kubeconfig = Path(settings.kubeconfig)
        kubeconfig = kubeconfig if kubeconfig.is_absolute() else root / kubeconfig
    return KubernetesTarget(
        settings,
        kubeconfig=kubeconfig,
        root=root,
        state=state,
        release=settings.release or scope.prefix.removeprefix("shiprail-"),
        timeout_seconds=cfg.health.timeout_seconds,
        container_port=cfg.container_port,
        load_image=load_local if settings.local else None,
    )


def service_router(target: Target) -> Router:
    """A Kubernetes environment's router: its Service, switched through Helm revisions."""
    from shiprail.deploy.routers.kubernetes import ServiceRouter
    from shiprail.deploy.targets.kubernetes import KubernetesTarget

    assert isinstance(target, KubernetesTarget), "a kubernetes: environment has a Helm target"
    return ServiceRouter(target)


def load_into_local_cluster(
    state: Path,
    client: Callable[[str], DockerClient],
    reference: str,
    auth: dict[str, str] | None,
) -> None:
    """Put an image into the local cluster's containerd: pulled by digest through the Docker
    Engine first (with the registry's credentials) when it is not there yet."""
    from shiprail.deploy.targets.docker import DockerTarget
    from shiprail.kubernetes.cluster import load_image

    DockerTarget(client("local")).pull(reference, auth)
    load_image(state / "k8s", reference)


def edge_router(
    root: Path,
    state: Path,
    scope: Scope,
    cfg: EnvironmentConfig,
    client: Callable[[], DockerClient],
) -> Router:
    """The environment's site on its edge: nginx in a container on ``client()``'s engine, or
    a file for Traefik's file provider (no engine needed)."""
    from shiprail.deploy.tls import htpasswd_content, tls_material

    environment = scope.environment
    if cfg.edge.router == "traefik":
        from shiprail.deploy.routers.traefik import TraefikRouter

        directory = Path(cfg.edge.traefik_dynamic_dir)
        return TraefikRouter(
            environment=environment,
            edge=cfg.edge,
            dynamic_dir=directory if directory.is_absolute() else root / directory,
            site=scope.site,
        )
    from shiprail.deploy.routers.nginx import NginxRouter

    auth = cfg.edge.basic_auth
    if auth is not None and not Path(auth.htpasswd_file).is_absolute():
        auth = auth.model_copy(update={"htpasswd_file": str(root / auth.htpasswd_file)})
    return NginxRouter(
        client(),
        environment=environment,
        edge=cfg.edge,
        network=cfg.network_name(environment, scope.service),
        tls=tls_material(cfg.edge.tls, state, environment, cfg.edge.hostname),
        htpasswd=htpasswd_content(auth, environment) if auth else None,
        service=scope.service,
    )


def edge_client(state: Path, environment: str, cfg: EnvironmentConfig) -> httpx.Client:
    """The edge as a user reaches it (its hostname and CA); on the local engine through the
    address it is bound to, so no DNS entry for the hostname is needed."""
    import ssl

    host = cfg.edge.hostname
    if cfg.target == "local":
        host = cfg.edge.bind
        with contextlib.suppress(ValueError):
            if ipaddress.ip_address(host).is_unspecified:  # bound to every address
                host = "127.0.0.1"

    verify: ssl.SSLContext | bool = True
    local_ca = state / "edge" / "ca" / "ca.pem"
    if cfg.edge.tls.cert_file is None and local_ca.is_file():
        verify = ssl.create_default_context(cafile=str(local_ca))
    return httpx.Client(
        base_url=f"https://{host}:{cfg.edge.port}",
        headers={"host": cfg.edge.hostname},
        verify=verify,
        timeout=10.0,
    )
