"""Synthetic load for a quiet service's canary: requests through the edge at a set rate.

A canary with no traffic cannot be judged (it pauses); ``canary.synthetic_load`` gives it
some. One daemon thread sends GET requests to the configured paths in turn, through the
edge like a user, so the split sends a share of them to the canary. Answers are not judged
here (the analysis reads them from the canary's metrics); the thread never raises.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable

import httpx

from shiprail.deploy.settings import SyntheticLoad


class SyntheticTraffic:
    """``with SyntheticTraffic(config, client_factory):`` sends load for the body's duration.

    ``client_factory`` makes an ``httpx.Client`` whose ``base_url`` is the edge (with the
    environment's CA and Host header); it is called, used and closed in the thread."""

    def __init__(self, config: SyntheticLoad, client_factory: Callable[[], httpx.Client]) -> None:
        self.config = config
        self.client_factory = client_factory
        self.sent = 0
        self.failed = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._send, name="canary-load", daemon=True)

    def _send(self) -> None:
        pause = 1.0 / self.config.rate_per_second
        with self.client_factory() as client:
            for path in itertools.cycle(self.config.paths):
                if self._stop.wait(pause):
                    return
                try:
                    status = client.get(path).status_code
                except httpx.HTTPError:
                    status = 0
                self.sent += 1
                if not 200 <= status < 500:
                    self.failed += 1

    def __enter__(self) -> SyntheticTraffic:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=15)
