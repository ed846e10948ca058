"""Judge a release from Prometheus: error ratio and p95 latency of its own series.

Used when ``monitoring.prometheus_url`` is set. Prometheus scrapes the release containers
through the file_sd targets ``shiprail deploy`` writes at every switch, so each series
carries ``environment`` and ``release`` labels and the new release is judged on its own
traffic only, from :meth:`begin` on (``increase`` over the seconds since the switch).
An unreachable Prometheus is a tool error (exit 3), never a verdict on the release.

:class:`PrometheusMetricSource` evaluates a canary's metric checks (PromQL templates) the
same way, one analysis interval at a time.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

from shiprail.deploy.analysis.interface import (
    Analysis,
    Limits,
    Measurement,
    MetricSource,
    Verdict,
    WatchTarget,
    promql_duration,
)
from shiprail.deploy.settings import PROBE_ROUTES, MetricCheck
from shiprail.observe.promapi import PrometheusAPI

#: Shortest window queried: Prometheus needs two scrapes inside a range to see an increase.
MIN_WINDOW_SECONDS = 30


class PrometheusAnalysis(Analysis):
    def __init__(
        self,
        api: PrometheusAPI,
        *,
        job: str = "workorders",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.api = api
        self.job = job
        self.clock = clock
        self._began: dict[tuple[str, str], float] = {}

    def begin(self, target: WatchTarget) -> None:
        self._began[(target.environment, target.release_id)] = self.clock()

    def _window(self, target: WatchTarget) -> str:
        began = self._began.get((target.environment, target.release_id), self.clock())
        return f"{max(MIN_WINDOW_SECONDS, math.ceil(self.clock() - began))}s"

    def selector(self, target: WatchTarget, extra: str = "") -> str:
        labels = (
            f'job="{self.job}", environment="{target.environment}", release="{target.release_id}"'
        )
        return "{" + labels + (f", {extra}" if extra else "") + "}"

    def queries(self, target: WatchTarget) -> dict[str, str]:
        window = self._window(target)
        failed = self.selector(target, 'status=~"5.."')
        return {
            "requests": f"sum(increase(http_requests_total{self.selector(target)}[{window}]))",
            "errors": f"sum(increase(http_requests_total{failed}[{window}]))",
            "p95": (
                "histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket"
                f"{self.selector(target)}[{window}])))"
            ),
        }

    def check(self, target: WatchTarget, limits: Limits) -> Verdict:
        q = self.queries(target)
        requests = self.api.query_value(q["requests"]) or 0.0
        errors = self.api.query_value(q["errors"]) or 0.0
        p95 = self.api.query_value(q["p95"])
        least = max(limits.min_requests, 1)  # with no request there is nothing to judge
        if requests < least:
            return Verdict(
                True,
                f"{requests:.0f} requests so far, fewer than {least}: not judged",
                None,
                p95,
                requests,
            )
        ratio = errors / requests
        if ratio > limits.max_error_ratio:
            return Verdict(
                False,
                f"error ratio {ratio:.1%} above {limits.max_error_ratio:.1%} "
                f"({errors:.0f} of {requests:.0f} requests)",
                ratio,
                p95,
                requests,
            )
        if p95 is not None and p95 > limits.max_p95_seconds:
            return Verdict(
                False,
                f"p95 latency {p95 * 1000:.0f} ms above {limits.max_p95_seconds * 1000:.0f} ms",
                ratio,
                p95,
                requests,
            )
        return Verdict(True, "error ratio and latency within limits", ratio, p95, requests)


class PrometheusMetricSource(MetricSource):
    """The canary's checks as PromQL, over the canary's own series (its ``release`` label,
    written to file_sd at every split). Each check's template is formatted with the
    environment, the release and the analysis interval (``30s``); the request count leaves
    the probe routes out, so health checks alone never make a quiet canary judgeable."""

    def __init__(self, api: PrometheusAPI) -> None:
        self.api = api

    def validate(self, checks: Sequence[MetricCheck]) -> None:
        """Every check is PromQL, which Prometheus evaluates (a bad query fails at the first
        interval as a usage error)."""

    def begin(self, target: WatchTarget) -> None:
        """Nothing to remember: every query covers the last interval by its range."""

    def requests_query(self, target: WatchTarget, interval: str) -> str:
        labels = (
            f'environment="{target.environment}", release="{target.release_id}", '
            f'route!~"{PROBE_ROUTES}"'
        )
        return f"sum(increase(http_requests_total{{{labels}}}[{interval}]))"

    def measure(
        self, target: WatchTarget, checks: Sequence[MetricCheck], interval_seconds: float
    ) -> Measurement:
        interval = promql_duration(interval_seconds)
        requests = self.api.query_value(self.requests_query(target, interval)) or 0.0
        values = {
            check.name: self.api.query_value(
                check.query.format(
                    environment=target.environment, release=target.release_id, interval=interval
                )
            )
            for check in checks
        }
        return Measurement(requests, values)
