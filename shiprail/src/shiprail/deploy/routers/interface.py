"""The seam between the release engine and the edge proxy in front of an environment.

A switch is atomic from a client's point of view: once :meth:`Router.switch` returns, new
requests go to the new release only, and requests in flight on the old one finish (nginx
reloads gracefully; Traefik swaps its dynamic configuration in one file rename).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass


@dataclass(frozen=True)
class Route:
    """Where the environment's traffic goes: one release's replicas."""

    environment: str
    hostname: str
    release_id: str
    colour: str
    #: ``ip:port`` the proxy dials, one per replica.
    upstreams: tuple[str, ...]
    #: container names, resolvable on the environment's network (used by Traefik).
    names: tuple[str, ...] = ()
    port: int = 8000


class Router(ABC):
    @abstractmethod
    def switch(self, route: Route) -> None:
        """Send all new traffic to ``route``; raise DeployFailed if the proxy rejects it."""

    @abstractmethod
    def url(self) -> str:
        """The public HTTPS URL of the environment."""
