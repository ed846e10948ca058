"""Judge a release from its own ``/metrics``: the RED counters every replica exposes.

``begin`` scrapes every replica and keeps the counters; ``check`` scrapes again and judges
only the difference: the share of 5xx answers among requests, and the 95th percentile of the
latency histogram (linear interpolation inside the bucket, as Prometheus'
``histogram_quantile`` does). Probe routes (``/health``, ``/ready``, ``/metrics``) are left
out so health checks do not dilute a real error rate. A replica that cannot be scraped
counts as a failure: a release that stops answering must not look healthy.

:class:`ReplicaMetricSource` computes a canary's two built-in checks the same way, between
the scrapes at the start and the end of each analysis interval: ``request-success-rate``
(percent of non-5xx answers) and ``request-duration`` (p99 in milliseconds). Other checks are
PromQL and need ``monitoring.prometheus_url``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx
from prometheus_client.parser import text_string_to_metric_families

from shiprail.deploy.analysis.interface import (
    Analysis,
    Limits,
    Measurement,
    MetricSource,
    Verdict,
    WatchTarget,
)
from shiprail.deploy.settings import PROBE_ROUTES, MetricCheck
from shiprail.errors import ConfigError

REQUESTS = "http_requests_total"
DURATION = "http_request_duration_seconds"
IGNORED_ROUTES = frozenset(PROBE_ROUTES.split("|"))
SCRAPE_TIMEOUT_SECONDS = 3.0


@dataclass
class Sample:
    requests: float = 0.0
    errors: float = 0.0
    buckets: dict[float, float] = field(default_factory=dict)

    def minus(self, other: Sample) -> Sample:
        # A restarted replica resets its counters: treat a decrease as a fresh start.
        def delta(new: float, old: float) -> float:
            return new - old if new >= old else new

        return Sample(
            delta(self.requests, other.requests),
            delta(self.errors, other.errors),
            {le: delta(v, other.buckets.get(le, 0.0)) for le, v in self.buckets.items()},
        )

    def plus(self, other: Sample) -> Sample:
        buckets: dict[float, float] = defaultdict(float, self.buckets)
        for le, value in other.buckets.items():
            buckets[le] += value
        return Sample(self.requests + other.requests, self.errors + other.errors, dict(buckets))


def parse_metrics(text: str) -> Sample:
    sample = Sample()
    buckets: dict[float, float] = defaultdict(float)
    for family in text_string_to_metric_families(text):
        for metric in family.samples:
            route = metric.labels.get("route", "")
            if route in IGNORED_ROUTES:
                continue
            if metric.name == REQUESTS:
                sample.requests += metric.value
                if metric.labels.get("status", "").startswith("5"):
                    sample.errors += metric.value
            elif metric.name == f"{DURATION}_bucket":
                buckets[float(metric.labels["le"])] += metric.value
    sample.buckets = dict(buckets)
    return sample


def quantile(q: float, buckets: dict[float, float]) -> float | None:
    """``histogram_quantile`` over cumulative buckets; None without observations."""
    ordered = sorted(buckets.items())
    if not ordered or ordered[-1][1] <= 0:
        return None
    total = ordered[-1][1]
    rank = q * total
    previous_le, previous_count = 0.0, 0.0
    for le, count in ordered:
        if count >= rank:
            if math.isinf(le):
                return previous_le
            width = count - previous_count
            fraction = (rank - previous_count) / width if width > 0 else 1.0
            return previous_le + (le - previous_le) * fraction
        previous_le, previous_count = le, count
    return previous_le


class MetricsAnalysis(Analysis):
    """Scrapes ``<base_url>/metrics`` of each replica (an ``httpx.Client`` can be passed in)."""

    def __init__(self, client: httpx.Client | None = None) -> None:
        self.client = client or httpx.Client(timeout=SCRAPE_TIMEOUT_SECONDS)
        self._baseline: dict[str, Sample] = {}

    def _scrape(self, url: str) -> Sample:
        response = self.client.get(url.rstrip("/") + "/metrics")
        response.raise_for_status()
        return parse_metrics(response.text)

    def begin(self, target: WatchTarget) -> None:
        self._baseline = {}
        for url in target.base_urls:
            try:
                self._baseline[url] = self._scrape(url)
            except httpx.HTTPError:
                self._baseline[url] = Sample()

    def check(self, target: WatchTarget, limits: Limits) -> Verdict:
        total = Sample()
        for url in target.base_urls:
            try:
                now = self._scrape(url)
            except httpx.HTTPError as exc:
                return Verdict(False, f"replica {url} cannot be scraped: {type(exc).__name__}")
            total = total.plus(now.minus(self._baseline.get(url, Sample())))
        p95 = quantile(0.95, total.buckets)
        ratio = total.errors / total.requests if total.requests else None
        least = max(limits.min_requests, 1)  # with no request there is nothing to judge
        if total.requests < least:
            return Verdict(
                True,
                f"{total.requests:.0f} requests, fewer than {least}: not judged",
                ratio,
                p95,
                total.requests,
            )
        assert ratio is not None
        if ratio > limits.max_error_ratio:
            return Verdict(
                False,
                f"error ratio {ratio:.1%} above {limits.max_error_ratio:.1%} "
                f"({total.errors:.0f} of {total.requests:.0f} requests)",
                ratio,
                p95,
                total.requests,
            )
        if p95 is not None and p95 > limits.max_p95_seconds:
            return Verdict(
                False,
                f"p95 latency {p95:.3f}s above {limits.max_p95_seconds:.3f}s",
                ratio,
                p95,
                total.requests,
            )
        return Verdict(
            True, f"error ratio {ratio:.1%}, p95 {p95 or 0:.3f}s", ratio, p95, total.requests
        )


def success_rate(sample: Sample) -> float | None:
    """Percent of answers that were not 5xx; None without requests."""
    if sample.requests <= 0:
        return None
    return 100.0 * (sample.requests - sample.errors) / sample.requests


def p99_milliseconds(sample: Sample) -> float | None:
    p99 = quantile(0.99, sample.buckets)
    return None if p99 is None else p99 * 1000.0


#: The checks computable from the replicas' own counters, by the name Flagger gives them.
BUILTIN_CHECKS = {"request-success-rate": success_rate, "request-duration": p99_milliseconds}


class ReplicaMetricSource(MetricSource):
    """The canary's built-in checks from its replicas' ``/metrics``, between two scrapes."""

    def __init__(self, client: httpx.Client | None = None) -> None:
        self.client = client or httpx.Client(timeout=SCRAPE_TIMEOUT_SECONDS)
        self._last: dict[str, Sample] = {}

    def validate(self, checks: Sequence[MetricCheck]) -> None:
        unknown = [c.name for c in checks if c.name not in BUILTIN_CHECKS]
        if unknown:
            raise ConfigError(
                f"canary check(s) {', '.join(unknown)} are PromQL and need a Prometheus",
                hint="set monitoring.prometheus_url in shiprail.yaml, or keep only the "
                f"checks computed from the replicas' /metrics: {', '.join(BUILTIN_CHECKS)}",
            )

    def _scrape(self, url: str) -> Sample:
        response = self.client.get(url.rstrip("/") + "/metrics")
        response.raise_for_status()
        return parse_metrics(response.text)

    def begin(self, target: WatchTarget) -> None:
        self._last = {}
        for url in target.base_urls:
            try:
                self._last[url] = self._scrape(url)
            except httpx.HTTPError:
                self._last[url] = Sample()

    def measure(
        self, target: WatchTarget, checks: Sequence[MetricCheck], interval_seconds: float
    ) -> Measurement:
        total, problem = Sample(), None
        for url in target.base_urls:
            try:
                now = self._scrape(url)
            except httpx.HTTPError as exc:
                problem = f"replica {url} cannot be scraped: {type(exc).__name__}"
                continue
            total = total.plus(now.minus(self._last.get(url, Sample())))
            self._last[url] = now
        values = {
            check.name: BUILTIN_CHECKS[check.name](total)
            for check in checks
            if check.name in BUILTIN_CHECKS
        }
        return Measurement(total.requests, values, problem)
