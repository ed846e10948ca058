"""Synthetic load for a quiet canary: the configured paths, in turn, at the set rate, through
a client for the edge; failures are counted, never raised."""

from __future__ import annotations

import time

import httpx

from shiprail.deploy.settings import SyntheticLoad
from shiprail.deploy.strategies.synthetic_load import SyntheticTraffic


def _client(handler: httpx.MockTransport) -> httpx.Client:
    return httpx.Client(base_url="https://dev.localhost:8443", transport=handler)


def test_sends_the_paths_in_turn_at_about_the_rate() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(200 if request.url.path == "/health" else 503)

    config = SyntheticLoad(rate_per_second=40, paths=["/health", "/api/v1/workorders"])
    with SyntheticTraffic(config, lambda: _client(httpx.MockTransport(handler))) as traffic:
        time.sleep(1.0)
    assert 20 <= traffic.sent <= 45, traffic.sent
    assert seen[:4] == ["/health", "/api/v1/workorders", "/health", "/api/v1/workorders"]
    assert traffic.failed == seen.count("/api/v1/workorders")  # the 503s, not the 200s


def test_an_unreachable_edge_is_counted_not_raised() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("edge down", request=request)

    config = SyntheticLoad(rate_per_second=50, paths=["/health"])
    with SyntheticTraffic(config, lambda: _client(httpx.MockTransport(handler))) as traffic:
        time.sleep(0.3)
    assert traffic.sent > 0 and traffic.failed == traffic.sent
