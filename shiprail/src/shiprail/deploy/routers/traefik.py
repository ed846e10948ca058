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

from shiprail.deploy.routers.interface import Route, Router
from shiprail.deploy.settings import EdgeConfig

COLOURS = ("blue", "green")


def render_traefik_dynamic(
    route: Route, *, basic_auth: bool = False, standby: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    """File-provider dynamic configuration sending ``route.hostname`` to ``route``'s release.

    ``standby`` are the servers of the other colour (the previous release), kept at weight 0
    so they stay defined while they drain; Traefik requires every service to have a server,
    so a colour without servers is left out.
    """
    env = route.environment
    middlewares = ["security-headers@file"]
    if basic_auth:
        middlewares.append(f"basic-auth-{env}@file")
    hosts = route.names or route.upstreams
    pools: dict[str, list[dict[str, str]]] = {
        route.colour: [{"url": f"http://{h if ':' in h else f'{h}:{route.port}'}"} for h in hosts]
    }
    if standby:
        pools[next(c for c in COLOURS if c != route.colour)] = standby
    services: dict[str, Any] = {
        f"workorders-{env}": {
            "weighted": {
                "services": [
                    {
                        "name": f"workorders-{env}-{colour}",
                        "weight": 1 if colour == route.colour else 0,
                    }
                    for colour in COLOURS
                    if colour in pools
                ]
            }
        }
    }
    for colour in COLOURS:
        if colour not in pools:
            continue
        services[f"workorders-{env}-{colour}"] = {
            "loadBalancer": {
                "servers": pools[colour],
                "passHostHeader": True,
                "healthCheck": {"path": "/ready", "interval": "5s", "timeout": "2s"},
            }
        }
    return {
        "http": {
            "routers": {
                f"workorders-{env}": {
                    "rule": f"Host(`{route.hostname}`)",
                    "entryPoints": ["websecure"],
                    "service": f"workorders-{env}",
                    "middlewares": middlewares,
                    "tls": {"options": "modern@file"},
                },
                f"workorders-{env}-metrics-blocked": {
                    "rule": f"Host(`{route.hostname}`) && Path(`/metrics`)",
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
    def __init__(self, *, environment: str, edge: EdgeConfig, dynamic_dir: Path) -> None:
        self.environment = environment
        self.edge = edge
        self.dynamic_dir = dynamic_dir

    @property
    def path(self) -> Path:
        return self.dynamic_dir / f"shiprail-{self.environment}.yml"

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
        weighted = services.get(f"workorders-{self.environment}", {}).get("weighted", {})
        for entry in weighted.get("services", []):
            if entry.get("weight") and not entry["name"].endswith(f"-{route.colour}"):
                return services.get(entry["name"], {}).get("loadBalancer", {}).get("servers")
        return None

    def switch(self, route: Route) -> None:
        document = render_traefik_dynamic(
            route,
            basic_auth=self.edge.basic_auth is not None,
            standby=self._active_servers(route),
        )
        header = f"# Generated by shiprail for environment {route.environment}: do not edit.\n"
        write_atomic(self.path, header + yaml.safe_dump(document, sort_keys=False))
