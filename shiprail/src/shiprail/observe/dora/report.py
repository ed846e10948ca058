"""The four keys computed from a ledger history, with their level and the team's target.

Pure arithmetic over :class:`~shiprail.observe.dora.history.History`: no database, no git,
so tests give it known histories and check exact figures. A figure that cannot be computed
(no deployment, no commit git knows, no failure) is ``None``: ``n/a`` to a person, ``null``
in JSON, absent from ``/metrics``.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shiprail.observe.dora import levels
from shiprail.observe.dora.history import History
from shiprail.observe.dora.levels import DAY, HOUR, Level
from shiprail.observe.settings import DoraTargets

#: Given the commits of the deployed releases, their commit times (unknown ones left out).
CommitTimes = Callable[[Collection[str]], Mapping[str, datetime]]


def median(values: Sequence[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def p90(values: Sequence[float]) -> float | None:
    """Nearest-rank 90th percentile: a value that occurred, exact for small samples."""
    if not values:
        return None
    ordered = sorted(values)
    return float(ordered[math.ceil(0.9 * len(ordered)) - 1])


@dataclass(frozen=True)
class Metric:
    """One of the four keys: its value, DORA level, the team's target and the details."""

    key: str
    title: str
    value: float | None
    unit: str
    level: Level
    #: the target as a bound on ``value`` ("at least" for frequency, "at most" otherwise)
    target: float
    at_least: bool = False
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def met(self) -> bool | None:
        if self.value is None:
            return None
        return self.value >= self.target if self.at_least else self.value <= self.target

    def as_json(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "unit": self.unit,
            "level": self.level.value,
            "target": {"at_least" if self.at_least else "at_most": self.target, "met": self.met},
            **self.details,
        }

    def shown(self) -> str:
        return "n/a" if self.value is None else human(self.value, self.unit)

    def target_shown(self) -> str:
        bound = "≥" if self.at_least else "≤"
        return f"{bound} {human(self.target, self.unit)}"


def human(value: float, unit: str) -> str:
    if unit == "seconds":
        if value >= DAY:
            return f"{value / DAY:.1f} d"
        if value >= HOUR:
            return f"{value / HOUR:.1f} h"
        return f"{value / 60:.1f} min" if value >= 60 else f"{value:.0f} s"
    if unit == "ratio":
        return f"{value * 100:.1f} %"
    return f"{value:.2f} {unit}"


@dataclass(frozen=True)
class DoraReport:
    environment: str
    since: datetime
    until: datetime
    metrics: tuple[Metric, ...]

    def metric(self, key: str) -> Metric:
        return next(m for m in self.metrics if m.key == key)

    def as_json(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "period_days": round((self.until - self.since).total_seconds() / DAY, 3),
            **{m.key: m.as_json() for m in self.metrics},
        }

    def rows(self) -> list[tuple[str, str, str, str, str, str]]:
        def met(m: Metric) -> str:
            return "n/a" if m.met is None else ("yes" if m.met else "no")

        return [
            (m.title, m.shown(), m.level.value, m.target_shown(), met(m), _detail_text(m))
            for m in self.metrics
        ]


def _detail_text(metric: Metric) -> str:
    parts = []
    for key, value in metric.details.items():
        if key.endswith("_seconds"):
            key, value = (
                key.removesuffix("_seconds"),
                "n/a" if value is None else human(value, "seconds"),
            )
        elif isinstance(value, dict):
            value = " ".join(f"{k}={v}" for k, v in value.items()) or "none"
        parts.append(f"{key.replace('_', ' ')} {value}")
    return ", ".join(parts)


def _frequency(history: History, days: float, targets: DoraTargets) -> Metric:
    count = sum(1 for d in history.deployments if d.live_at is not None)
    per_day = count / days if days > 0 else None
    return Metric(
        "deployment_frequency",
        "deployment frequency",
        per_day,
        "per day",
        levels.deployment_frequency(per_day),
        targets.deploys_per_day,
        at_least=True,
        details={
            "deployments": count,
            "per_week": round(per_day * 7, 3) if per_day is not None else None,
        },
    )


def _lead_time(history: History, commit_times: CommitTimes, targets: DoraTargets) -> Metric:
    live = [d for d in history.deployments if d.live_at is not None]
    known = commit_times({d.git_sha for d in live if d.git_sha}) if live else {}
    seconds: list[float] = []
    unknown = skewed = 0
    for deployment in live:
        committed = known.get(deployment.git_sha)
        if committed is None or deployment.live_at is None:
            unknown += 1
            continue
        lead = (deployment.live_at - committed).total_seconds()
        if lead < 0:  # the commit's clock is ahead of the ledger's: count it, clamp it
            skewed += 1
            lead = 0.0
        seconds.append(lead)
    value = median(seconds)
    return Metric(
        "lead_time",
        "lead time for changes (median)",
        value,
        "seconds",
        levels.lead_time(value),
        targets.lead_time_hours * HOUR,
        details={"p90_seconds": p90(seconds), "measured": len(seconds), "unknown": unknown,
                 "skewed": skewed},
    )  # fmt: skip


def _failure_rate(history: History, targets: DoraTargets) -> Metric:
    deployed = {d.release_id for d in history.deployments}
    failed = [f for f in history.failures if f.release_id in deployed]
    rate = len(failed) / len(deployed) if deployed else None
    by_kind: dict[str, int] = {}
    for failure in failed:
        by_kind[failure.kind.value] = by_kind.get(failure.kind.value, 0) + 1
    return Metric(
        "change_failure_rate",
        "change failure rate",
        rate,
        "ratio",
        levels.change_failure_rate(rate),
        targets.change_failure_rate_percent / 100,
        details={"failed": len(failed), "deployments": len(deployed), "by_kind": by_kind},
    )


def _restore(history: History, targets: DoraTargets) -> Metric:
    spans = [
        max(0.0, (f.restored_at - f.started_at).total_seconds())
        for f in history.failures
        if f.restored_at is not None
    ]
    value = median(spans)
    return Metric(
        "time_to_restore",
        "time to restore (median)",
        value,
        "seconds",
        levels.time_to_restore(value),
        targets.time_to_restore_hours * HOUR,
        details={"restored": len(spans), "unresolved": len(history.failures) - len(spans)},
    )


def build_report(
    environment: str,
    history: History,
    *,
    since: datetime,
    until: datetime,
    commit_times: CommitTimes,
    targets: DoraTargets,
) -> DoraReport:
    days = (until - since).total_seconds() / DAY
    return DoraReport(
        environment,
        since,
        until,
        (
            _frequency(history, days, targets),
            _lead_time(history, commit_times, targets),
            _failure_rate(history, targets),
            _restore(history, targets),
        ),
    )
