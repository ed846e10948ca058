"""What every rollout strategy shares: replica smoke checks and the route to a set of replicas."""

from __future__ import annotations

import time

import httpx

from shiprail.deploy.routers.interface import Route
from shiprail.deploy.settings import SmokeCheck
from shiprail.deploy.targets.interface import Instance
from shiprail.errors import DeployFailed

COLOURS = ("blue", "green")
#: Grace given to a stopping replica to finish its requests.
STOP_GRACE_SECONDS = 10.0


def other_colour(colour: str | None) -> str:
    return "green" if colour == "blue" else "blue"


def run_smoke(
    instances: list[Instance], checks: list[SmokeCheck], client: httpx.Client | None = None
) -> None:
    """Send every smoke check to every replica directly; raise DeployFailed on the first miss."""
    own = client is None
    http = client or httpx.Client(timeout=10.0)
    try:
        for instance in instances:
            for check in checks:
                url = instance.url.rstrip("/") + check.path
                started = time.perf_counter()
                try:
                    response = http.request(check.method, url)
                except httpx.HTTPError as exc:
                    raise DeployFailed(
                        f"smoke check {check.method} {check.path} on {instance.name}: "
                        f"{type(exc).__name__}"
                    ) from exc
                elapsed_ms = (time.perf_counter() - started) * 1000
                if response.status_code != check.status:
                    raise DeployFailed(
                        f"smoke check {check.method} {check.path} on {instance.name}: status "
                        f"{response.status_code}, expected {check.status}"
                    )
                if check.contains is not None and check.contains not in response.text:
                    raise DeployFailed(
                        f"smoke check {check.method} {check.path} on {instance.name}: body "
                        f"does not contain {check.contains!r}"
                    )
                if elapsed_ms > check.max_latency_ms:
                    raise DeployFailed(
                        f"smoke check {check.method} {check.path} on {instance.name}: "
                        f"{elapsed_ms:.0f} ms, budget {check.max_latency_ms} ms"
                    )
    finally:
        if own:
            http.close()


def route_for(environment: str, hostname: str, instances: list[Instance], port: int) -> Route:
    first = instances[0]
    return Route(
        environment=environment,
        hostname=hostname,
        release_id=first.release_id,
        colour=first.colour,
        upstreams=tuple(i.upstream for i in instances),
        names=tuple(i.name for i in instances),
        port=port,
    )
