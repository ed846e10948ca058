"""Steady client traffic for the drill, so the rules have requests to measure."""

from __future__ import annotations

import threading

import httpx

_CATEGORIES = ("plumbing", "electrical", "hvac", "appliance", "general")


class Load:
    """List and create work orders from a few threads until the context ends.

    Every tenth request of a thread is an authenticated create, the rest are reads: both
    endpoints feed the error-rate and latency series the alerts watch.
    """

    def __init__(self, base_url: str, token: str, threads: int = 4, pause: float = 0.05) -> None:
        self.base_url = base_url
        self.token = token
        self.pause = pause
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(threads)
        ]

    def _run(self, index: int) -> None:
        count = 0
        with httpx.Client(base_url=self.base_url, timeout=10.0) as client:
            while not self._stop.is_set():
                count += 1
                try:
                    if count % 10 == index % 10:
                        client.post(
                            "/api/v1/workorders",
                            headers={"Authorization": f"Bearer {self.token}"},
                            json={
                                "title": f"drill order {index}-{count}",
                                "category": _CATEGORIES[count % len(_CATEGORIES)],
                                "property_ref": "BLD-1/1A",
                            },
                        )
                    else:
                        client.get("/api/v1/workorders", params={"limit": 5})
                except httpx.HTTPError:
                    self._stop.wait(0.2)  # the service is down (a phase of the drill)
                self._stop.wait(self.pause)

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=15)
