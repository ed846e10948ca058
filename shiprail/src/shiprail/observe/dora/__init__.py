"""DORA's four keys for one environment, computed from the release ledger.

``dora_report`` reads the ledger once (:mod:`.history`), asks git for the commit times
(:mod:`.commits`) and does the arithmetic (:mod:`.report`); :mod:`.exporter` serves the same
report as Prometheus gauges. What each figure counts is written in docs/dora.md.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from shiprail.deploy.ledger import Ledger
from shiprail.deploy.records import utcnow
from shiprail.observe.dora.history import History, read_history
from shiprail.observe.dora.levels import Level
from shiprail.observe.dora.report import CommitTimes, DoraReport, Metric, build_report
from shiprail.observe.settings import DoraTargets

__all__ = ["CommitTimes", "DoraReport", "History", "Level", "Metric", "dora_report"]

DEFAULT_PERIOD = timedelta(days=90)


def dora_report(
    ledger: Ledger,
    environment: str,
    *,
    commit_times: CommitTimes,
    targets: DoraTargets | None = None,
    period: timedelta = DEFAULT_PERIOD,
    now: datetime | None = None,
) -> DoraReport:
    """The four keys of ``environment`` over the ``period`` that ends ``now``."""
    until = now or utcnow()
    since = until - period
    return build_report(
        environment,
        read_history(ledger, environment, since),
        since=since,
        until=until,
        commit_times=commit_times,
        targets=targets or DoraTargets(),
    )
