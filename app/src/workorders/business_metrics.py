"""Business metrics read at scrape time: how many work orders are open, by status.

A collector (not a gauge updated by handlers) so the number is right across replicas,
restarts and direct database changes: every scrape asks the database. A database error skips
the series for that scrape rather than failing ``/metrics`` (``up`` must mean "process up").
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from workorders.models import Status, WorkOrder

logger = logging.getLogger("workorders.metrics")

#: Statuses that still need work (done and cancelled are closed).
OPEN_STATUSES = (Status.open, Status.scheduled, Status.in_progress)


class OpenWorkOrdersCollector(Collector):
    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self.session_factory = session_factory

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "workorders_open",
            "Work orders not yet done or cancelled, by status.",
            labels=["status"],
        )
        try:
            with self.session_factory() as session:
                rows = session.execute(
                    select(WorkOrder.status, func.count())
                    .where(WorkOrder.status.in_(OPEN_STATUSES))
                    .group_by(WorkOrder.status)
                ).all()
        except SQLAlchemyError as exc:
            logger.warning("open work orders not counted", extra={"error": type(exc).__name__})
            return
        counts = {Status(status).value: count for status, count in rows}
        for status in OPEN_STATUSES:
            family.add_metric([status.value], counts.get(status.value, 0))
        yield family
