"""The seam between the release engine and whatever judges a release's traffic.

The engine calls :meth:`Analysis.begin` right after the edge proxy switched to the new
release, then :meth:`Analysis.check` repeatedly during the watch window; a verdict that is not
``ok`` rolls the release back. Implementations: ``metrics.py`` (scrapes the release's own
``/metrics`` counters) and a Prometheus-backed one (queries the server that scrapes the
targets deploy writes for file_sd). Values are frozen dataclasses so a verdict can be stored
in the ledger as-is.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass


@dataclass(frozen=True)
class WatchTarget:
    """What to watch: one release of one environment, reachable at ``base_urls``."""

    environment: str
    release_id: str
    base_urls: tuple[str, ...]


@dataclass(frozen=True)
class Limits:
    """Thresholds above which a release is rolled back.

    ``min_requests``: below this many requests the ratio is not judged (too little traffic to
    tell a bad release from bad luck), so the verdict stays ``ok``.
    """

    max_error_ratio: float = 0.05
    max_p95_seconds: float = 0.5
    min_requests: int = 20


@dataclass(frozen=True)
class Verdict:
    """The judgement of the traffic since :meth:`Analysis.begin`."""

    ok: bool
    reason: str
    error_ratio: float | None = None
    p95_seconds: float | None = None
    requests: float = 0.0


class Analysis(ABC):
    """Judges a release from its traffic; must not raise for a bad release (return a verdict)."""

    @abstractmethod
    def begin(self, target: WatchTarget) -> None:
        """Take a baseline of the counters so later checks judge only new traffic."""

    @abstractmethod
    def check(self, target: WatchTarget, limits: Limits) -> Verdict:
        """Judge the traffic since :meth:`begin` against ``limits``."""
