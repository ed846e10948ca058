"""The DORA report as Prometheus gauges: served on ``/metrics`` or written as a textfile.

A collector of its own registry (never the process-global one) computes the report of every
environment at each scrape, so the figures are as fresh as the ledger and nothing is kept
between scrapes. A figure that is ``n/a`` is left out rather than exported as 0, so an alert
on it stays quiet instead of firing on missing data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, start_http_server, write_to_textfile
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from shiprail.observe.dora.levels import Level
from shiprail.observe.dora.report import DoraReport

PREFIX = "shiprail_dora"
#: Levels as numbers, so a dashboard can colour them and an alert can compare them.
LEVEL_VALUES = {Level.elite: 4, Level.high: 3, Level.medium: 2, Level.low: 1}
#: metric key -> (gauge name, help): the value of each key in its base unit.
VALUES = {
    "deployment_frequency": ("deployment_frequency_per_day", "Deployments that went live, per day"),
    "lead_time": ("lead_time_seconds", "Median lead time for changes, commit to live"),
    "change_failure_rate": ("change_failure_rate", "Share of deployments that failed (0-1)"),
    "time_to_restore": ("time_to_restore_seconds", "Median time from a failure to restored"),
}


class DoraCollector(Collector):
    """Yields the gauges of ``reports()`` (one report per environment) at each collect."""

    def __init__(self, reports: Callable[[], Sequence[DoraReport]]) -> None:
        self.reports = reports

    def collect(self) -> Iterator[Any]:
        env = ["environment"]
        families = {
            key: GaugeMetricFamily(f"{PREFIX}_{name}", text, labels=env)
            for key, (name, text) in VALUES.items()
        }
        lead_p90 = GaugeMetricFamily(
            f"{PREFIX}_lead_time_p90_seconds", "90th percentile of the lead time", labels=env
        )
        target = GaugeMetricFamily(
            f"{PREFIX}_target", "The team's target for each key (dora: in shiprail.yaml)",
            labels=[*env, "metric"],
        )  # fmt: skip
        level = GaugeMetricFamily(
            f"{PREFIX}_level", "DORA 2023 level: 4 elite, 3 high, 2 medium, 1 low",
            labels=[*env, "metric"],
        )  # fmt: skip
        counts = GaugeMetricFamily(
            f"{PREFIX}_events", "What the figures were computed from, over the period",
            labels=[*env, "kind"],
        )  # fmt: skip
        period = GaugeMetricFamily(f"{PREFIX}_period_seconds", "Length of the period", labels=env)
        for report in self.reports():
            name = report.environment
            period.add_metric([name], (report.until - report.since).total_seconds())
            for metric in report.metrics:
                target.add_metric([name, metric.key], metric.target)
                if metric.value is not None:
                    families[metric.key].add_metric([name], metric.value)
                if metric.level in LEVEL_VALUES:
                    level.add_metric([name, metric.key], LEVEL_VALUES[metric.level])
            p90 = report.metric("lead_time").details["p90_seconds"]
            if p90 is not None:
                lead_p90.add_metric([name], p90)
            for kind, value in _counts(report).items():
                counts.add_metric([name, kind], value)
        yield from families.values()
        yield from (lead_p90, target, level, counts, period)


def _counts(report: DoraReport) -> dict[str, float]:
    lead = report.metric("lead_time").details
    failures = report.metric("change_failure_rate").details
    restore = report.metric("time_to_restore").details
    return {
        "deployments": failures["deployments"],
        "failed_deployments": failures["failed"],
        "lead_time_unknown": lead["unknown"],
        "lead_time_skewed": lead["skewed"],
        "unresolved_failures": restore["unresolved"],
    }


def registry_for(reports: Callable[[], Sequence[DoraReport]]) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DoraCollector(reports))
    return registry


def serve(registry: CollectorRegistry, host: str, port: int) -> Any:
    """Serve ``/metrics`` in a background thread; returns the server (``shutdown()`` it)."""
    server, _thread = start_http_server(port, addr=host, registry=registry)
    return server


def write_textfile(registry: CollectorRegistry, path: Path) -> None:
    """node_exporter's textfile format, written to a temporary file then renamed, so the
    collector never reads half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_to_textfile(str(path), registry)
