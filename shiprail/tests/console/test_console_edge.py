"""The console published through the real nginx edge on a real Docker Engine, beside another
site on the same edge port: it answers (and signs in) at https://<its hostname>:<port>/ with
the edge's certificate, it listens on its network's gateway (not loopback, not every
address), and taking its site off the edge leaves the other site serving."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import signal
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from deploy.test_edge_split import Edge

from shiprail.console.app import CSP
from shiprail.console.edge import Published, gateway, publish
from shiprail.console.server import check_listen, uvicorn_options
from shiprail.console.settings import ConsoleConfig
from shiprail.deploy.routers.nginx_conf import CONF_DIR
from shiprail.deploy.settings import EdgeConfig

from .conftest import Console, console_config, make_console
from conftest import wait_until

pytestmark = pytest.mark.docker


@pytest.fixture
def other_site(tmp_path: Path, docker_client: Any) -> Iterator[Edge]:
    """Another environment's site on the edge (a backend answering ``stable``)."""
    edge = Edge(tmp_path, docker_client)
    try:
        edge.router.switch(edge.stable)
        yield edge
    finally:
        edge.cleanup()


@contextlib.contextmanager
def published_console(
    tmp_path: Path, client: Any, other: Edge
) -> Iterator[tuple[Console, Published, httpx.Client]]:
    """The console's site on ``other``'s edge port, and the console served on the gateway
    with the options ``shiprail console`` uses."""
    (tmp_path / "console").mkdir()
    console = make_console(tmp_path / "console", console_config())
    network = f"shiprail-console-{secrets.token_hex(3)}"
    host, _subnet = gateway(client, network)
    with socket.socket() as probe:
        probe.bind((host, 0))
        port = int(probe.getsockname()[1])
    hostname = f"console-{other.name}.localhost"
    edge = EdgeConfig(hostname=hostname, port=other.port)
    state = tmp_path / "state"
    published = publish(client, edge, port, state, network=network, image=lambda: other.image)
    check_listen(ConsoleConfig(edge=edge), published.host, console.root, published=True)
    options = uvicorn_options(ConsoleConfig(edge=edge), published.host, port, console.root,
                              published.subnet)  # fmt: skip
    server = uvicorn.Server(uvicorn.Config(console.app(https=True), **options))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    ca = ssl.create_default_context(cafile=str(state / "edge" / "ca" / "ca.pem"))

    def sni(request: httpx.Request) -> None:
        request.extensions["sni_hostname"] = hostname

    http = httpx.Client(base_url=f"https://127.0.0.1:{other.port}", verify=ca, timeout=10,
                        headers={"host": hostname}, event_hooks={"request": [sni]})  # fmt: skip
    try:
        wait_until(lambda: server.started, 30, what="the console listening on the gateway")
        yield console, published, http
    finally:
        http.close()
        server.should_exit = True
        thread.join(10)
        with contextlib.suppress(Exception):
            published.withdraw()
        client.networks.get(network).remove()  # the edge left it: nothing is connected


def _sign_in(http: httpx.Client, console: Console, name: str, password: str) -> httpx.Response:
    form = http.get("/login")
    assert form.status_code == 200, form.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    return http.post("/login", data={"username": name, "password": password,
                                     "csrf_token": token.group(1), "next": "/"})  # fmt: skip


def test_console_through_the_edge_beside_another_site(
    tmp_path: Path, docker_client: Any, other_site: Edge
) -> None:
    with published_console(tmp_path, docker_client, other_site) as (console, published, http):
        assert not published.host.startswith("127.") and published.host != "0.0.0.0"
        assert published.url == f"https://{published.router.edge.hostname}:{other_site.port}/"

        page = http.get("/login")
        assert page.status_code == 200 and "Sign in" in page.text
        assert page.headers["strict-transport-security"].startswith("max-age=")
        # the console's own strict policy, once, not the service site's (inline code, CDN)
        assert page.headers.get_list("content-security-policy") == [CSP]
        signed_in = _sign_in(http, console, "bob", console.passwords["bob"])
        assert signed_in.status_code == 303 and signed_in.headers["location"] == "/"
        home = http.get("/")
        assert home.status_code == 200 and "Environments" in home.text
        assert "bob (approver)" in home.text

        # the client address the console records is the one the edge saw, not the edge's
        logins = [e for e in console.store.audit() if e.action == "login"]
        assert logins and logins[0].detail is not None
        address = logins[0].detail.removeprefix("from ")
        edge_ip = _edge_address(docker_client, published)
        assert address and address != edge_ip

        assert _served(other_site) == "stable"

        published.withdraw()
        assert _served(other_site) == "stable"
        files = other_site.client.containers.get(published.router.name).exec_run(
            ["ls", f"{CONF_DIR}/sites"]
        )
        assert b"shiprail-console.conf" not in files.output
        with pytest.raises(httpx.HTTPError):  # no site names the host: TLS fails
            http.get("/login").raise_for_status()


def _served(other: Edge) -> str:
    """What the other site answers for its hostname (named in TLS too: with two sites on
    the port, a client without SNI meets whichever site nginx takes as the default)."""
    with httpx.Client(verify=other.ca, headers={"host": other.hostname}, timeout=10) as http:
        response = http.get(other.url, extensions={"sni_hostname": other.hostname})
    assert response.status_code == 200, response.text
    return response.text


def _edge_address(client: Any, published: Published) -> str:
    container = client.containers.get(published.router.name)
    container.reload()
    networks = container.attrs["NetworkSettings"]["Networks"]
    return str(networks[published.router.network]["IPAddress"])


def test_a_wrong_password_through_the_edge_counts_once(
    tmp_path: Path, docker_client: Any, other_site: Edge
) -> None:
    """The edge sends a refused sign-in round once more (its ban budget): the console's own
    lock-out must still count one failure per attempt."""
    with published_console(tmp_path, docker_client, other_site) as (console, _published, http):
        refused = _sign_in(http, console, "bob", "not-" + secrets.token_hex(4))
        assert refused.status_code == 403 and "Wrong account name" in refused.text
        rows = console.store.engine.connect().exec_driver_sql(
            "SELECT key, failures FROM console_login_failures"
        )
        assert dict(rows.fetchall()).get("user:bob") == 1


def test_shiprail_console_publishes_itself_through_the_edge(
    tmp_path: Path, docker_client: Any, other_site: Edge
) -> None:
    """The command itself: ``console.edge`` in shiprail.yaml, no --host (refused with it);
    the console answers through the edge, and Ctrl-C takes its site off the edge."""
    host, _subnet = gateway(docker_client)
    with socket.socket() as probe:
        probe.bind((host, 0))
        port = int(probe.getsockname()[1])
    hostname = f"console-cli-{other_site.name}.localhost"
    (tmp_path / "shiprail.yaml").write_text(
        f"console:\n  port: {port}\n  edge:\n    hostname: {hostname}\n"
        f"    port: {other_site.port}\n"
    )
    env = {
        **os.environ,
        "SHIPRAIL_ROOT": str(tmp_path),
        "SHIPRAIL_STATE_DIR": str(tmp_path / "state"),
        "SHIPRAIL_DATABASE_URL": f"sqlite:///{tmp_path / 'state.db'}",
    }
    env.pop("SHIPRAIL_HOST", None)
    command = [sys.executable, "-m", "shiprail.cli", "console"]
    refused = subprocess.run([*command, "--host", "0.0.0.0"], env=env, capture_output=True,
                             text=True, timeout=120)  # fmt: skip
    assert refused.returncode == 2 and "--host does not apply" in refused.stderr
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              text=True)  # fmt: skip
    ca = tmp_path / "state" / "edge" / "ca" / "ca.pem"

    def login_page() -> int:
        if not ca.is_file():
            return 0
        try:
            with httpx.Client(verify=ssl.create_default_context(cafile=str(ca))) as http:
                return http.get(f"https://127.0.0.1:{other_site.port}/login", timeout=5,
                                headers={"host": hostname},
                                extensions={"sni_hostname": hostname}).status_code  # fmt: skip
        except httpx.HTTPError:
            return 0

    try:
        wait_until(lambda: login_page() == 200, 120, what="the console through the edge")
        assert _served(other_site) == "stable"
    finally:
        server.send_signal(signal.SIGINT)
        _out, err = server.communicate(timeout=60)
    assert server.returncode == 0, err
    assert f"console on https://{hostname}:{other_site.port}/ through the edge" in err
    assert login_page() == 0, "the console's site is gone from the edge"
    assert _served(other_site) == "stable"
    with contextlib.suppress(Exception):  # another console may still use it
        docker_client.networks.get("shiprail-console").remove()
