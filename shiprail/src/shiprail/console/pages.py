"""What each console page shows, read from the ledger, the configuration and ``reports/``.

Only reads live here; :mod:`shiprail.console.app` turns these values into HTML. The same
values back ``shiprail status``/``history`` (:mod:`shiprail.deploy.views`), so the console and
the command line cannot disagree about what runs where.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from shiprail.config import ShiprailConfig
from shiprail.console.charts import Series, bar_chart
from shiprail.deploy import approvals, progress, views
from shiprail.deploy.approvals import Rejection
from shiprail.deploy.ledger import Ledger
from shiprail.deploy.records import (
    Approval,
    Attempt,
    Release,
    attempt_from_row,
    attempts,
    release_from_row,
    releases,
    utcnow,
)
from shiprail.deploy.settings import EnvironmentConfig
from shiprail.deploy.states import Action, ReleaseState
from shiprail.deploy.targets.interface import Target
from shiprail.errors import ToolCrashed
from shiprail.observe.dora import DEFAULT_PERIOD, CommitTimes, DoraReport, History
from shiprail.observe.dora.history import read_history
from shiprail.observe.dora.report import build_report

SEVERITIES = ("critical", "high", "medium", "low", "info")
TREND_WEEKS = 12
TIMELINE_LIMIT = 50
#: Lines of a file shown either side of a finding.
SOURCE_CONTEXT = 8

TargetFactory = Callable[[str, EnvironmentConfig], Target]


def _no_target(_name: str, _cfg: EnvironmentConfig) -> Target:
    raise ToolCrashed("the console was started without access to the deploy target")


def environments(
    config: ShiprailConfig, ledger: Ledger, target: TargetFactory | None
) -> list[views.EnvironmentStatus]:
    factory = target or _no_target

    def bound(name: str, cfg: EnvironmentConfig) -> Callable[[], Target]:
        return lambda: factory(name, cfg)

    return [
        views.environment_status(name, cfg, ledger, bound(name, cfg))
        for name, cfg in config.environments.items()
    ]


def timeline(ledger: Ledger, environment: str) -> list[views.HistoryEntry]:
    """``shiprail history``'s entries (newest first), read with one query per table instead
    of two per attempt, so a long history renders as fast as a short one."""
    tried = ledger.attempts(environment, limit=TIMELINE_LIMIT)
    ids = {a.release_id for a in tried}
    with ledger.engine.connect() as connection:
        found = {
            r.id: release_from_row(r)
            for r in connection.execute(releases.select().where(releases.c.id.in_(ids)))
        }
    approved = {
        (found[a.release_id].source_release if a.release_id in found else None) or a.release_id
        for a in tried
        if a.action == Action.promote
    }
    first = approvals.first_approvals(ledger, environment, approved)
    entries = []
    for attempt in tried:
        release = found.get(attempt.release_id)
        approval = None
        if attempt.action == Action.promote:
            approval = first.get(
                (release.source_release if release else None) or attempt.release_id
            )
        entries.append(views.HistoryEntry(attempt, release, approval))
    return entries


def status(
    config: ShiprailConfig, ledger: Ledger, name: str, target: TargetFactory | None
) -> views.EnvironmentStatus:
    factory = target or _no_target
    cfg = config.environments[name]
    return views.environment_status(name, cfg, ledger, lambda: factory(name, cfg))


@dataclass(frozen=True)
class ReleasePage:
    release: Release
    attempts: list[Attempt]
    approvals: list[Approval]
    rejection: Rejection | None
    source: Release | None
    scan: dict[str, Any] | None
    #: the release's newest rollout (its stages while it runs, how it ended after)
    rollout: progress.RolloutState | None = None

    @property
    def in_progress(self) -> bool:
        """Still being rolled out: the page follows it until it is live or failed."""
        active = self.rollout is not None and self.rollout.active
        return active or self.release.status == ReleaseState.pending


def release_page(ledger: Ledger, release_id: str, reports: Path) -> ReleasePage | None:
    release = ledger.release(release_id)
    if release is None:
        return None
    query = attempts.select().where(attempts.c.release_id == release_id).order_by(attempts.c.id)
    with ledger.engine.connect() as connection:
        tried = [attempt_from_row(row) for row in connection.execute(query)]
    source = ledger.release(release.source_release) if release.source_release else None
    approved_id = source.id if source else release.id
    return ReleasePage(
        release=release,
        attempts=tried,
        approvals=approvals.approvals_of(ledger, release.environment, approved_id),
        rejection=approvals.rejection(ledger, release.environment, approved_id),
        source=source,
        scan=(scan_report(reports) or {}).get("summary"),
        rollout=progress.of_release(ledger, release.id),
    )


def pending(config: ShiprailConfig, ledger: Ledger) -> list[approvals.Pending]:
    needed = {
        name: cfg.approvals_needed
        for name, cfg in config.environments.items()
        if cfg.approvals_needed > 0
    }
    return approvals.pending(ledger, needed)


# -- findings -------------------------------------------------------------------------------
def scan_report(reports: Path) -> dict[str, Any] | None:
    """The last ``shiprail scan`` report (``reports/scan.json``), None when there is none."""
    path = reports / "scan.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


@dataclass(frozen=True)
class Findings:
    report: dict[str, Any] | None
    shown: list[dict[str, Any]]
    by_severity: dict[str, int]
    tools: list[str]
    states: list[str]


def findings(reports: Path, severity: str | None, tool: str | None, state: str | None) -> Findings:
    report = scan_report(reports)
    rows = [f for f in (report or {}).get("findings", []) if isinstance(f, dict)]
    by_severity = {s: sum(1 for f in rows if f.get("severity") == s) for s in SEVERITIES}
    shown = [
        f
        for f in rows
        if (not severity or f.get("severity") == severity)
        and (not tool or f.get("tool") == tool)
        and (not state or f.get("state") == state)
    ]
    order = {s: i for i, s in enumerate(SEVERITIES)}
    shown.sort(key=lambda f: (order.get(str(f.get("severity")), 99), f.get("path"), f.get("line")))
    return Findings(
        report=report,
        shown=shown,
        by_severity=by_severity,
        tools=sorted({str(f.get("tool")) for f in rows}),
        states=sorted({str(f.get("state")) for f in rows}),
    )


def source_excerpt(root: Path, reports: Path, path: str, line: int) -> list[tuple[int, str]]:
    """The lines around ``line`` of a file the last scan named (and only such a file: the
    console never serves an arbitrary path of the checkout)."""
    named = {str(f.get("path")) for f in (scan_report(reports) or {}).get("findings", [])}
    if path not in named:
        return []
    file = (root / path).resolve()
    if not file.is_relative_to(root.resolve()) or not file.is_file():
        return []
    try:
        text = file.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    start = max(line - SOURCE_CONTEXT, 1)
    end = min(line + SOURCE_CONTEXT, len(text))
    return [(n, text[n - 1]) for n in range(start, end + 1)]


# -- DORA -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class DoraPage:
    environment: str
    report: DoraReport
    charts: list[str] = field(default_factory=list)


def dora(
    config: ShiprailConfig,
    ledger: Ledger,
    environment: str,
    commit_times: CommitTimes,
    now: datetime | None = None,
) -> DoraPage:
    """One environment's four keys over the default period, and its weekly trends, from one
    read of its history."""
    until = now or utcnow()
    since = until - DEFAULT_PERIOD
    history = read_history(ledger, environment, since)
    report = build_report(
        environment,
        history,
        since=since,
        until=until,
        commit_times=commit_times,
        targets=config.dora,
    )
    return DoraPage(environment, report, trend_charts(history, environment, until))


def trend_charts(history: History, environment: str, now: datetime) -> list[str]:
    """Deployments, change failure rate and median time to restore, per week."""
    since = now - timedelta(weeks=TREND_WEEKS)
    starts = [since + timedelta(weeks=w) for w in range(TREND_WEEKS)]
    labels = tuple(f"{s:%m-%d}" for s in starts)

    def week(when: datetime | None) -> int | None:
        if when is None or when < since:
            return None
        index = int((when - since) / timedelta(weeks=1))
        return index if index < TREND_WEEKS else None

    deployed = [0] * TREND_WEEKS
    for d in history.deployments:
        if (w := week(d.live_at)) is not None:
            deployed[w] += 1
    failed = [0] * TREND_WEEKS
    restore: list[list[float]] = [[] for _ in range(TREND_WEEKS)]
    for f in history.failures:
        if (w := week(f.started_at)) is not None:
            failed[w] += 1
            if f.restored_at is not None:
                restore[w].append((f.restored_at - f.started_at).total_seconds() / 60)
    rate = tuple(
        (min(failed[w] / deployed[w], 1.0) * 100 if deployed[w] else None)
        for w in range(TREND_WEEKS)
    )
    return [
        bar_chart(Series(f"{environment}: deployments per week", "deployments", labels,
                         tuple(float(v) for v in deployed))),
        bar_chart(Series(f"{environment}: change failure rate", "%", labels, rate)),
        bar_chart(Series(f"{environment}: median time to restore", "min", labels,
                         tuple(statistics.median(r) if r else None for r in restore))),
    ]  # fmt: skip
