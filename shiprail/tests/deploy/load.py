"""A small HTTPS load generator that counts failed requests (also used by bench/deploy.py).

Each worker keeps one keep-alive connection, like a browser; a connection the proxy closed
while idle is reopened and the request re-sent only when nothing was received (what HTTP
clients do for idempotent requests). Any 5xx, timeout or error after that is a failure.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx


@dataclass
class LoadResult:
    requests: int = 0
    failures: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


class Load:
    def __init__(
        self,
        url: str,
        *,
        workers: int = 4,
        verify: ssl.SSLContext | bool = True,
        auth: tuple[str, str] | None = None,
        host: str | None = None,
    ) -> None:
        self.url = url
        self.workers = workers
        self.verify = verify
        self.auth = auth
        self.host = host
        self.result = LoadResult()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._started = 0.0

    def _worker(self) -> None:
        client = httpx.Client(verify=self.verify, auth=self.auth, timeout=10.0)
        headers = {"host": self.host} if self.host else {}
        try:
            while not self._stop.is_set():
                status = self._one(client, headers)
                with self._lock:
                    self.result.requests += 1
                    self.result.statuses[status] += 1
                    if not status.startswith(("2", "3", "4")):
                        self.result.failures += 1
        finally:
            client.close()

    def _one(self, client: httpx.Client, headers: dict[str, str]) -> str:
        for attempt in (1, 2):
            try:
                return str(client.get(self.url, headers=headers).status_code)
            except httpx.RemoteProtocolError as exc:
                # An idle keep-alive connection closed by the proxy: reopen once and re-send.
                if attempt == 1 and "without sending" in str(exc).lower():
                    continue
                failure = type(exc).__name__
            except httpx.HTTPError as exc:
                failure = type(exc).__name__
            with self._lock:
                self.result.errors[failure] += 1
            return failure
        return "unreachable"

    def __enter__(self) -> Load:
        self._started = time.monotonic()
        for _ in range(self.workers):
            thread = threading.Thread(target=self._worker, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=15)
        self.result.seconds = time.monotonic() - self._started

    def snapshot(self) -> tuple[int, int]:
        with self._lock:
            return self.result.requests, self.result.failures
