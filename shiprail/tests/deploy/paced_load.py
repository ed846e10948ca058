"""Open-loop HTTPS load for the canary proof: requests start at a fixed rate whatever the
answers take, as independent users do, so a slow release does not slow the arrivals down
(a closed loop of a few workers would send fewer requests to a slow release and flatter it).

Every request carries its own ``X-Request-ID``; the edge logs it with the release that served
the request, so :func:`edge_requests` tells exactly which requests reached which release.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class Sent:
    """One request: when it started and ended (``time.monotonic``), its id and its outcome."""

    at: float
    request_id: str
    status: str
    done: float = 0.0

    @property
    def failed(self) -> bool:
        return not self.status.startswith(("2", "3", "4"))


class PacedLoad:
    """``rate`` requests per second to ``url``, each on a worker of a pool large enough for
    the slowest release (``workers`` requests in flight at most)."""

    def __init__(
        self,
        url: str,
        *,
        rate: float,
        verify: ssl.SSLContext,
        host: str,
        tag: str,
        workers: int = 64,
    ) -> None:
        self.url = url
        self.rate = rate
        self.host = host
        self.tag = tag
        self.sent: list[Sent] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=workers)
        limits = httpx.Limits(max_connections=workers, max_keepalive_connections=workers)
        self._verify = verify
        self._client = httpx.Client(verify=verify, timeout=10.0, limits=limits)
        self._pacer = threading.Thread(target=self._pace, daemon=True)

    def _pace(self) -> None:
        started = time.monotonic()
        n = 0
        while not self._stop.is_set():
            due = started + n / self.rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            self._pool.submit(self._one, f"{self.tag}-{n:06d}")
            n += 1

    def _one(self, request_id: str) -> None:
        at = time.monotonic()
        headers = {"host": self.host, "x-request-id": request_id}
        status = "unreachable"
        for attempt in (1, 2):
            # the re-send goes on a new connection, as a browser's does after a keep-alive close
            client = (
                self._client if attempt == 1 else httpx.Client(verify=self._verify, timeout=10.0)
            )
            try:
                status = str(client.get(self.url, headers=headers).status_code)
                break
            except httpx.RemoteProtocolError as exc:
                # An idle keep-alive connection closed by a reload: re-send once, as clients do.
                status = f"{type(exc).__name__}: {exc}"
                if attempt == 1 and "without sending" in str(exc).lower():
                    continue
                break
            except httpx.HTTPError as exc:
                status = f"{type(exc).__name__}: {exc}"
                break
            finally:
                if client is not self._client:
                    client.close()
        with self._lock:
            self.sent.append(Sent(at, request_id, status, time.monotonic()))

    def __enter__(self) -> PacedLoad:
        self._pacer.start()
        return self

    def stop(self) -> None:
        """Stop sending and wait for the answers of the requests in flight."""
        if self._stop.is_set():
            return
        self._stop.set()
        self._pacer.join(timeout=5)
        self._pool.shutdown(wait=True)
        self._client.close()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def between(self, start: float, end: float) -> list[Sent]:
        with self._lock:
            return [s for s in self.sent if start <= s.at <= end]


def edge_requests(container: Any) -> dict[str, str]:
    """Request id → release id of every request the edge (nginx, JSON access log) proxied."""
    served: dict[str, str] = {}
    for line in container.logs(stdout=True, stderr=False).decode(errors="replace").splitlines():
        if not line.startswith("{"):
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("request_id") and entry.get("release"):
            served[entry["request_id"]] = entry["release"]
    return served


def releases_served(container: Any, release_id: str) -> int:
    """How many access log lines of the edge name ``release_id``, whatever sent them."""
    return sum(1 for release in edge_requests(container).values() if release == release_id)
