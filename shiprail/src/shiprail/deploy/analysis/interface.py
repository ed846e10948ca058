"""The seam between the release engine and whatever judges a release's traffic.

The engine calls :meth:`Analysis.begin` right after the edge proxy switched to the new
release, then :meth:`Analysis.check` repeatedly during the watch window; a verdict that is not
``ok`` rolls the release back. Implementations: ``metrics.py`` (scrapes the release's own
``/metrics`` counters) and a Prometheus-backed one (queries the server that scrapes the
targets deploy writes for file_sd). Values are frozen dataclasses so a verdict can be stored
in the ledger as-is.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field

from shiprail.deploy.settings import MetricCheck


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


@dataclass(frozen=True)
class Measurement:
    """One canary analysis interval: how many requests the canary served, and the value of
    each metric check by name (None when there was no data to compute it from).

    ``problem`` names what made the interval unjudgeable for a reason that is the release's
    fault (a replica that cannot be scraped): the canary counts it as a failed check."""

    requests: float
    values: dict[str, float | None] = field(default_factory=dict)
    problem: str | None = None


class MetricSource(ABC):
    """Values of the canary's own series, one analysis interval at a time.

    :meth:`begin` is called when traffic first reaches the canary; :meth:`measure` at the end
    of each interval, for the traffic of that interval only. Like :class:`Analysis`, a bad
    release is a measurement, never an exception."""

    @abstractmethod
    def validate(self, checks: Sequence[MetricCheck]) -> None:
        """Raise ConfigError for a check this source cannot evaluate (before any rollout)."""

    @abstractmethod
    def begin(self, target: WatchTarget) -> None:
        """Start measuring ``target`` (take a baseline when the source needs one)."""

    @abstractmethod
    def measure(
        self, target: WatchTarget, checks: Sequence[MetricCheck], interval_seconds: float
    ) -> Measurement:
        """The canary's requests and each check's value over the last interval."""


def promql_duration(seconds: float) -> str:
    """An interval as a PromQL range (``30s``), rounded up to whole seconds."""
    return f"{max(1, math.ceil(seconds))}s"
