"""The edge under attack, on a real Docker Engine: one release (v1) behind the real nginx edge.

- TLS: sslyze, a real TLS scanner, checks the edge against Mozilla's "intermediate"
  configuration (versions, ciphers, curves, certificate, known TLS vulnerabilities) and
  must find nothing; the HSTS max-age is checked against the same profile.
- Slow clients and smuggling, with raw sockets: a slowloris client does not starve a
  normal one and is dropped after ``client_header_timeout``; oversize headers and bodies,
  and ambiguous request framing (Content-Length with Transfer-Encoding) are refused by the
  edge before the service sees them; writes under /api/ have their own rate limit.
"""

from __future__ import annotations

import json
import select
import socket
import ssl
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from shiprail.deploy.routers.nginx_conf import LIMITS, WRITE_RATE

from .test_docker_integration import Env
from conftest import wait_until

pytestmark = pytest.mark.docker

#: Mozilla's HSTS minimum for "intermediate" (two years).
HSTS_MIN_AGE = 63072000
#: Slow clients opened at once, each sending its headers one line a second.
SLOW_CLIENTS = 200
HEADER_TIMEOUT = float(LIMITS["client_header_timeout"].rstrip("s"))


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, docker_client: Any) -> Iterator[Env]:
    environment = Env(tmp_path_factory.mktemp("edge-attacks"), docker_client)
    try:
        environment.engine().deploy(environment.name, environment.images["v1"])
        yield environment
    finally:
        environment.cleanup()


def _host(env: Env) -> str:
    return f"{env.name}.localhost"


def _connect(env: Env, timeout: float = 5.0) -> ssl.SSLSocket:
    """A TLS connection to the edge speaking HTTP/1.1 (no ALPN), as raw bytes."""
    sock = socket.create_connection(("127.0.0.1", env.port), timeout=timeout)
    return env.ca.wrap_socket(sock, server_hostname=_host(env))


def _read_head(conn: ssl.SSLSocket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def _status(env: Env, raw: bytes) -> int:
    """Send ``raw`` on a new connection; the status code of the first answer."""
    with _connect(env) as conn:
        conn.sendall(raw)
        head = _read_head(conn)
    assert head.startswith(b"HTTP/1.1 "), head[:200]
    return int(head.split()[1])


def _request(env: Env, method: str, path: str, headers: str = "", body: bytes = b"") -> bytes:
    return (
        f"{method} {path} HTTP/1.1\r\nHost: {_host(env)}\r\nConnection: close\r\n{headers}\r\n"
    ).encode() + body


def _edge_log(env: Env) -> list[dict[str, Any]]:
    logs = env.edge.logs(stderr=False)
    return [json.loads(line) for line in logs.decode().splitlines() if line.startswith("{")]


def test_tls_scan_finds_nothing_against_mozilla_intermediate(env: Env, tmp_path: Path) -> None:
    report = tmp_path / "sslyze.json"
    ca = env.state / "edge" / "ca" / "ca.pem"
    target = f"{_host(env)}:{env.port}{{127.0.0.1}}"
    command = [
        sys.executable, "-m", "sslyze", "--mozilla_config=intermediate", "--http_headers",
        f"--certinfo_ca_file={ca}", f"--json_out={report}", target,
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert f"{_host(env)}:{env.port}: OK - Compliant." in result.stdout, result.stdout[-2000:]
    scan = json.loads(report.read_text())["server_scan_results"][0]
    assert scan["scan_status"] == "COMPLETED"
    attempt = scan["scan_result"]["http_headers"]
    headers = attempt["result"]
    assert headers is not None, attempt
    hsts = headers["strict_transport_security_header"]
    assert hsts is not None and hsts["max_age"] >= HSTS_MIN_AGE, hsts
    assert hsts["include_subdomains"] is True


def _open_slow_clients(env: Env, count: int) -> list[ssl.SSLSocket]:
    clients = []
    for _ in range(count):
        conn = _connect(env)
        conn.sendall(f"GET /health HTTP/1.1\r\nHost: {_host(env)}\r\n".encode())
        conn.setblocking(False)
        clients.append(conn)
    return clients


def _drip(clients: list[ssl.SSLSocket], open_: set[ssl.SSLSocket]) -> None:
    """One more header line on every open slow client; forget those the edge closed.

    The sockets do not block: a readable socket may only hold a TLS 1.3 session ticket.
    """
    readable, _, _ = select.select(list(open_), [], [], 0)
    for conn in readable:
        try:
            data = conn.recv(4096)
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
            continue
        except OSError:
            data = b""
        assert not data.startswith(b"HTTP/1.1 200"), "a slow client was served"
        open_.discard(conn)
    for conn in clients:
        if conn in open_:
            try:
                conn.send(b"X-Slow: 1\r\n")
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                pass
            except OSError:
                open_.discard(conn)


def test_slowloris_does_not_starve_other_clients_and_is_dropped(env: Env) -> None:
    clients = _open_slow_clients(env, SLOW_CLIENTS)
    open_ = set(clients)
    started = time.monotonic()
    latencies = []
    try:
        with httpx.Client(verify=env.ca, headers={"host": _host(env)}, timeout=5) as http:
            while open_ and time.monotonic() - started < 3 * HEADER_TIMEOUT:
                _drip(clients, open_)
                before = time.monotonic()
                assert http.get(env.url + "/health").status_code == 200
                latencies.append(time.monotonic() - before)
                time.sleep(1)
        dropped_after = time.monotonic() - started
    finally:
        for conn in clients:
            conn.close()
    assert not open_, f"{len(open_)} slow clients still connected after {dropped_after:.0f}s"
    # Dropped once their headers took longer than the timeout (never served), not before.
    assert HEADER_TIMEOUT - 1 <= dropped_after <= 2 * HEADER_TIMEOUT + 2, dropped_after
    assert len(latencies) >= HEADER_TIMEOUT - 1
    assert max(latencies) < 1.0, latencies


@pytest.mark.parametrize(
    "headers",
    [f"X-Big: {'a' * 9000}\r\n", "".join(f"X-Big-{i}: {'a' * 7000}\r\n" for i in range(6))],
    ids=["one-header-over-8k", "headers-over-32k"],
)
def test_oversize_headers_are_refused(env: Env, headers: str) -> None:
    assert _status(env, _request(env, "GET", "/health", headers)) in (400, 431)


def test_oversize_request_line_is_refused(env: Env) -> None:
    assert _status(env, _request(env, "GET", "/health?q=" + "a" * 9000)) == 414


def test_oversize_body_is_refused_before_it_is_read(env: Env) -> None:
    headers = "Content-Type: application/json\r\nContent-Length: 2000000\r\n"
    assert _status(env, _request(env, "POST", "/api/v1/workorders", headers)) == 413


@pytest.mark.parametrize(
    ("headers", "body", "expected"),
    [
        ("Content-Length: 4\r\nTransfer-Encoding: chunked\r\n", b"0\r\n\r\n", 400),
        ("Transfer-Encoding: chunked\r\nContent-Length: 4\r\n", b"0\r\n\r\n", 400),
        ("Content-Length: 4\r\nContent-Length: 40\r\n", b"{}{}", 400),
        ("Transfer-Encoding: xchunked\r\n", b"0\r\n\r\n", 501),
    ],
    ids=["cl-then-te", "te-then-cl", "two-content-lengths", "unknown-transfer-encoding"],
)
def test_ambiguous_request_framing_is_refused(
    env: Env, headers: str, body: bytes, expected: int
) -> None:
    marker = f"smuggle-{time.monotonic_ns()}"
    raw = _request(env, "POST", "/api/v1/workorders", f"X-Request-ID: {marker}\r\n" + headers, body)
    assert _status(env, raw) == expected

    # Refused at the edge: the request never reached the service.
    def logged() -> list[dict[str, Any]]:
        return [e for e in _edge_log(env) if e["request_id"] == marker]

    wait_until(lambda: bool(logged()), 10, what="the refused request in the edge's access log")
    assert all(e["upstream"] == "" and e["status"] == expected for e in logged()), logged()


def test_writes_under_api_have_a_stricter_rate_limit(env: Env) -> None:
    writes = 3 * WRITE_RATE[1]
    statuses: Counter[int] = Counter()
    rate, burst = WRITE_RATE
    with httpx.Client(verify=env.ca, headers={"host": _host(env)}, timeout=5) as http:
        started = time.monotonic()
        for _ in range(writes):
            statuses[http.post(env.url + "/api/v1/workorders", json={}).status_code] += 1
        elapsed = time.monotonic() - started
        # Reads do not count against the write budget.
        assert http.get(env.url + "/api/v1/workorders").status_code == 200
    passed = writes - statuses[429]
    # The burst at once, then the rate: the rest is refused with 429.
    assert burst <= passed <= burst + rate * elapsed + 2, (statuses, elapsed)
