"""Weighted canary routing through the real nginx edge, on a real Docker Engine.

Two tiny backends (a few lines of Python's ``http.server`` in the edge's own image, which
carries python3) answer with the side they are, ``stable`` or ``canary``; the edge is the
real :class:`NginxRouter`. The shares are checked with bounds far outside chance: for 500
requests at 20 %, the canary count is 100 +- 9 (one standard deviation), and the test
accepts 50 to 150.
"""

from __future__ import annotations

import contextlib
import secrets
import socket
import ssl
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from shiprail.deploy.routers.interface import Route, Sticky, TrafficSplit
from shiprail.deploy.routers.nginx import NginxRouter, edge_image
from shiprail.deploy.settings import EdgeConfig
from shiprail.deploy.targets.docker import LABEL_ENV, LABEL_ROLE
from shiprail.deploy.tls import issue_leaf
from shiprail.errors import DeployFailed

from .load import Load
from conftest import wait_until

pytestmark = pytest.mark.docker

BACKEND = """
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
SIDE = os.environ["SIDE"].encode()
class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed ACK
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(len(SIDE)))
        self.end_headers()
        self.wfile.write(SIDE)
    def log_message(self, *args):
        pass
ThreadingHTTPServer(("0.0.0.0", 8000), Handler).serve_forever()
"""
READY = "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/', timeout=1)"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Edge:
    """One environment: a network, a stable and a canary backend, and the nginx edge."""

    def __init__(self, tmp: Path, client: Any) -> None:
        self.client = client
        self.name = f"sp{secrets.token_hex(3)}"
        self.hostname = f"{self.name}.localhost"
        self.port = _free_port()
        self.network = f"backend-{self.name}"
        self.tmp = tmp
        self.containers: list[Any] = []
        client.networks.create(self.network, driver="bridge", labels={LABEL_ENV: self.name})
        self.image = edge_image(client)
        tls = issue_leaf(tmp / "ca", tmp / "tls", self.hostname)
        self.router = NginxRouter(
            client,
            environment=self.name,
            edge=EdgeConfig(hostname=self.hostname, port=self.port),
            network=self.network,
            tls=tls,
            image=lambda: self.image,
        )
        self.stable = self._backend("stable", "r1-stable", "blue")
        self.canary = self._backend("canary", "r2-canary", "green")

    def _backend(self, side: str, release: str, colour: str) -> Route:
        container = self.client.containers.run(
            self.image,
            command=["python3", "-c", BACKEND],
            environment={"SIDE": side},
            name=f"shiprail-{self.name}-{side}",
            network=self.network,
            user="33:33",
            read_only=True,
            detach=True,
            labels={LABEL_ENV: self.name, LABEL_ROLE: "replica"},
        )
        self.containers.append(container)
        wait_until(
            lambda: container.exec_run(["python3", "-c", READY]).exit_code == 0,
            30,
            what=f"the {side} backend",
        )
        container.reload()
        address = container.attrs["NetworkSettings"]["Networks"][self.network]["IPAddress"]
        return Route(self.name, self.hostname, release, colour, (f"{address}:8000",))

    def split(self, weight: int, sticky: Sticky | None = None) -> None:
        self.router.split(TrafficSplit(self.stable, self.canary, weight, sticky))

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}/"

    @property
    def ca(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.tmp / "ca" / "ca.pem"))

    def client_(self) -> httpx.Client:
        return httpx.Client(verify=self.ca, headers={"host": self.hostname}, timeout=10)

    def sides(self, count: int, headers: dict[str, str] | None = None) -> Counter[str]:
        with self.client_() as http:
            return Counter(self._get(http, headers).text for _ in range(count))

    def _get(self, http: httpx.Client, headers: dict[str, str] | None) -> httpx.Response:
        response = http.get(self.url, headers=headers or {})
        assert response.status_code == 200, (response.status_code, response.text)
        return response

    def cleanup(self) -> None:
        with contextlib.suppress(Exception):
            self.router.remove()
        for container in self.containers:
            with contextlib.suppress(Exception):
                container.remove(force=True)
        with contextlib.suppress(Exception):
            self.client.networks.get(self.network).remove()


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory, docker_client: Any) -> Iterator[Edge]:
    environment = Edge(tmp_path_factory.mktemp("edge-split"), docker_client)
    try:
        environment.router.switch(environment.stable)
        yield environment
    finally:
        environment.cleanup()


def test_twenty_percent_of_requests_reach_the_canary(edge: Edge) -> None:
    edge.split(20)
    sides = edge.sides(500)
    assert set(sides) == {"stable", "canary"} and sides.total() == 500
    assert 50 <= sides["canary"] <= 150, sides
    # every edge setting holds under a split: one copy of each security header, no cookie
    with edge.client_() as http:
        response = edge._get(http, None)
    for header in ("strict-transport-security", "content-security-policy", "x-frame-options"):
        assert len(response.headers.get_list(header)) == 1, header
    assert "set-cookie" not in response.headers
    assert httpx.get(edge.url + "metrics", verify=edge.ca).status_code == 404
    # the access log names the release that served each request
    logs = edge.client.containers.get(edge.router.name).logs(tail=50).decode()
    assert '"release":"r2-canary"' in logs and '"release":"r1-stable"' in logs


@pytest.mark.parametrize(("weight", "side"), [(0, "stable"), (100, "canary")])
def test_zero_and_hundred_percent_send_everything_to_one_side(
    edge: Edge, weight: int, side: str
) -> None:
    edge.split(weight)
    assert edge.sides(200) == Counter({side: 200})


def test_sticky_header_keeps_a_client_on_one_side(edge: Edge) -> None:
    edge.split(50, Sticky(header="X-User"))
    seen = {}
    for user in range(20):
        sides = edge.sides(50, {"X-User": f"user-{user}"})
        assert len(sides) == 1, (user, sides)
        seen[user] = next(iter(sides))
    assert set(seen.values()) == {"stable", "canary"}, "different clients spread"
    # without the header, requests are assigned one by one
    assert set(edge.sides(100)) == {"stable", "canary"}


def test_sticky_cookie_is_given_on_the_first_answer_and_keeps_the_client(edge: Edge) -> None:
    edge.split(50, Sticky(cookie="shiprail_canary"))
    seen = []
    for _client in range(20):
        with edge.client_() as http:
            first = edge._get(http, None)
            cookie = first.headers["set-cookie"]
            assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
            value = cookie.split(";", 1)[0]
            assert value.startswith("shiprail_canary=")
            answers = [edge._get(http, {"cookie": value}) for _ in range(49)]
        sides = Counter(answer.text for answer in answers)
        assert sides == Counter({first.text: 49}), "the first answer's side, every time"
        assert not any("set-cookie" in answer.headers for answer in answers)
        seen.append(first.text)
    assert set(seen) == {"stable", "canary"}, "different clients spread"


def test_weight_changes_are_graceful_reloads_under_load(edge: Edge) -> None:
    edge.split(10)
    with Load(edge.url, workers=4, verify=edge.ca, host=edge.hostname) as load:
        wait_until(lambda: load.snapshot()[0] >= 40, 30, what="requests before the reloads")
        for weight in (25, 50, 75, 90, 5):
            before = load.snapshot()[0]
            edge.split(weight, Sticky(header="X-User"))
            wait_until(lambda b=before: load.snapshot()[0] >= b + 40, 30, what="requests")
    assert load.result.requests >= 240, load.result
    assert load.result.failures == 0, (load.result.statuses, load.result.errors)


def test_rejected_split_raises_and_keeps_the_previous_one(edge: Edge) -> None:
    edge.split(0)
    broken = Route(edge.name, edge.hostname, "r3-broken", "green", ("no-such-host.invalid:8000",))
    with pytest.raises(DeployFailed, match="nginx rejected"):
        edge.router.split(TrafficSplit(edge.stable, broken, 50))
    assert edge.sides(100) == Counter({"stable": 100})
