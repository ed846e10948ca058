"""The seam between the release engine and the edge proxy in front of an environment.

A switch is atomic from a client's point of view: once :meth:`Router.switch` returns, new
requests go to the new release only, and requests in flight on the old one finish (nginx
reloads gracefully; Traefik swaps its dynamic configuration in one file rename).

A canary release is routed with :meth:`Router.split`: a weighted share of new requests goes
to the canary, the rest to the stable release, with the same atomicity; a client stays on
one side when the split is sticky.
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


@dataclass(frozen=True)
class Sticky:
    """Keep one client on one side of a split: by a request header, or else a cookie.

    With neither, each request is assigned on its own (by weight)."""

    header: str | None = None
    cookie: str | None = None


@dataclass(frozen=True)
class TrafficSplit:
    """``canary_weight`` percent (0-100) of new requests to ``canary``, the rest to ``stable``."""

    stable: Route
    canary: Route
    canary_weight: int
    sticky: Sticky | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.canary_weight <= 100:
            raise ValueError(f"canary weight {self.canary_weight} is not within 0-100")


class Router(ABC):
    @abstractmethod
    def switch(self, route: Route) -> None:
        """Send all new traffic to ``route``; raise DeployFailed if the proxy rejects it."""

    @abstractmethod
    def split(self, split: TrafficSplit) -> None:
        """Send ``split.canary_weight`` % of new traffic to the canary, the rest to the stable
        release (sticky per client when asked); raise DeployFailed if the proxy rejects it."""

    @abstractmethod
    def url(self) -> str:
        """The public HTTPS URL of the environment."""
