"""The Traefik edge proxy, for sites that run the Compose + Traefik stack in ``compose/``.

Traefik's file provider watches a directory; this router writes one file per environment
(``shiprail-<env>.yml``) with a router on the ``websecure`` entry point and a *weighted*
service whose weights move all traffic to the new colour. The file is written to a temporary
name and renamed, so Traefik never reads half a file. Middlewares and TLS options come from
``compose/traefik/dynamic/common.yaml`` (security headers, TLS 1.2+, basic auth for dev).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import yaml

from shiprail.deploy.routers.interface import Route, Router, Sticky, TrafficSplit
from shiprail.deploy.settings import EdgeConfig
from shiprail.errors import ConfigError, DeployFailed
from shiprail.naming import DEFAULT_SERVICE, Scope

COLOURS = ("blue", "green")


def _servers(route: Route) -> list[dict[str, str]]:
    hosts = route.names or route.upstreams
    return [{"url": f"http://{h if ':' in h else f'{h}:{route.port}'}"} for h in hosts]


def _load_balancer(servers: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "loadBalancer": {
            "servers": servers,
            "passHostHeader": True,
            "healthCheck": {"path": "/ready", "interval": "5s", "timeout": "2s"},
        }
    }


def _document(
    name: str, env: str, hostname: str, basic_auth: bool, services: dict[str, Any]
) -> dict[str, Any]:
    """The routers for ``hostname`` (TLS, headers, basic auth, /metrics closed) + services."""
    middlewares = ["security-headers@file"]
    if basic_auth:
        middlewares.append(f"basic-auth-{env}@file")
    return {
        "http": {
            "routers": {
                name: {
                    "rule": f"Host(`{hostname}`)",
                    "entryPoints": ["websecure"],
                    "service": name,
                    "middlewares": middlewares,
                    "tls": {"options": "modern@file"},
                },
                f"{name}-metrics-blocked": {
                    "rule": f"Host(`{hostname}`) && Path(`/metrics`)",
                    "entryPoints": ["websecure"],
                    "priority": 1000,
                    "service": "noop@internal",
                    "middlewares": ["deny-all@file"],
                    "tls": {"options": "modern@file"},
                },
            },
            "services": services,
        }
    }


def render_traefik_dynamic(
    route: Route,
    *,
    basic_auth: bool = False,
    standby: list[dict[str, str]] | None = None,
    site: str | None = None,
) -> dict[str, Any]:
    """File-provider dynamic configuration sending ``route.hostname`` to ``route``'s release.

    ``standby`` are the servers of the other colour (the previous release), kept at weight 0
    so they stay defined while they drain; Traefik requires every service to have a server,
    so a colour without servers is left out.
    """
    env = route.environment
    name = site or Scope(DEFAULT_SERVICE, env).site
    pools: dict[str, list[dict[str, str]]] = {route.colour: _servers(route)}
    if standby:
        pools[next(c for c in COLOURS if c != route.colour)] = standby
    services: dict[str, Any] = {
        name: {
            "weighted": {
                "services": [
                    {
                        "name": f"{name}-{colour}",
                        "weight": 1 if colour == route.colour else 0,
                    }
                    for colour in COLOURS
                    if colour in pools
                ]
            }
        }
    }
    for colour in COLOURS:
        if colour in pools:
            services[f"{name}-{colour}"] = _load_balancer(pools[colour])
    return _document(name, env, route.hostname, basic_auth, services)


def sticky_cookie(sticky: Sticky | None) -> dict[str, Any] | None:
    """Traefik's ``sticky`` for a weighted service: a cookie Traefik sets itself.

    Traefik's weighted services are sticky by cookie only; a split sticky by header would
    silently flap clients between releases, so it is refused as a configuration error.
    """
    if sticky is None or (sticky.header is None and sticky.cookie is None):
        return None
    if sticky.header is not None:
        raise ConfigError(
            f"canary.sticky.header '{sticky.header}' is not supported with edge.router: "
            "traefik (Traefik's weighted services are sticky by cookie only)",
            hint="use canary.sticky.cookie, or the nginx edge, which supports both",
        )
    return {"cookie": {"name": sticky.cookie, "secure": True, "httpOnly": True, "sameSite": "lax"}}


def render_traefik_split(
    split: TrafficSplit, *, basic_auth: bool = False, site: str | None = None
) -> dict[str, Any]:
    """Dynamic configuration sending ``canary_weight`` % of requests to the canary.

    The two releases are services named by colour, as a switch names them, so promoting
    the canary with :meth:`TraefikRouter.switch` keeps the stable one defined to drain. A
    side at weight 0 is left out of the weighted list: Traefik ignores a child of weight 0
    (so a sticky cookie naming it no longer matches and every client moves), and the file
    then says what Traefik does.
    """
    stable, canary = split.stable, split.canary
    env = stable.environment
    name = site or Scope(DEFAULT_SERVICE, env).site
    if canary.environment != env or canary.hostname != stable.hostname:
        raise DeployFailed("a split routes one environment's hostname: stable and canary differ")
    if canary.colour == stable.colour:
        raise DeployFailed(f"a split needs two colours: stable and canary are both {canary.colour}")
    for side in (stable, canary):
        if not (side.names or side.upstreams):
            raise DeployFailed(f"no upstream for release {side.release_id}: nothing to route to")
    weights = {stable.colour: 100 - split.canary_weight, canary.colour: split.canary_weight}
    weighted: dict[str, Any] = {
        "services": [
            {"name": f"{name}-{colour}", "weight": weight}
            for colour, weight in weights.items()
            if weight > 0
        ]
    }
    if (sticky := sticky_cookie(split.sticky)) is not None:
        weighted["sticky"] = sticky
    services: dict[str, Any] = {name: {"weighted": weighted}}
    for side in (stable, canary):
        services[f"{name}-{side.colour}"] = _load_balancer(_servers(side))
    return _document(name, env, stable.hostname, basic_auth, services)


def write_atomic(path: Path, text: str) -> None:
    """Write through a temporary file in the same directory and rename it over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class TraefikRouter(Router):
    """One site (``<service>-<environment>``) in Traefik's file provider directory: a file
    of its own, so several services share one Traefik and route by hostname."""

    def __init__(
        self, *, environment: str, edge: EdgeConfig, dynamic_dir: Path, site: str | None = None
    ) -> None:
        self.environment = environment
        self.edge = edge
        self.dynamic_dir = dynamic_dir
        self.site = site or Scope(DEFAULT_SERVICE, environment).site

    @property
    def path(self) -> Path:
        return self.dynamic_dir / f"shiprail-{self.site}.yml"

    def url(self) -> str:
        port = "" if self.edge.port == 443 else f":{self.edge.port}"
        return f"https://{self.edge.hostname}{port}/"

    def _active_servers(self, route: Route) -> list[dict[str, str]] | None:
        """The servers currently taking traffic, if they belong to the other colour."""
        try:
            current = yaml.safe_load(self.path.read_text()) or {}
        except (OSError, yaml.YAMLError):
            return None
        services = current.get("http", {}).get("services", {})
        weighted = services.get(self.site, {}).get("weighted", {})
        for entry in weighted.get("services", []):
            if entry.get("weight") and not entry["name"].endswith(f"-{route.colour}"):
                return services.get(entry["name"], {}).get("loadBalancer", {}).get("servers")
        return None

    def switch(self, route: Route) -> None:
        document = render_traefik_dynamic(
            route,
            basic_auth=self.edge.basic_auth is not None,
            standby=self._active_servers(route),
            site=self.site,
        )
        self._write(document)

    def split(self, split: TrafficSplit) -> None:
        """Weights apply as soon as Traefik's file provider reads the renamed file."""
        basic_auth = self.edge.basic_auth is not None
        self._write(render_traefik_split(split, basic_auth=basic_auth, site=self.site))

    def _write(self, document: dict[str, Any]) -> None:
        header = f"# Generated by shiprail for environment {self.environment}: do not edit.\n"
        write_atomic(self.path, header + yaml.safe_dump(document, sort_keys=False))
