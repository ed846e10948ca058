"""Bulk seeding for ``make bench``: many work orders in seconds, not through the API.

The rows are what the service itself would write (UUIDv7 ids in creation order, the same
columns and defaults), inserted in batches: ``executemany`` on SQLite, ``COPY`` on
PostgreSQL. Seeding can grow a database in steps (500, then 50,000, then 500,000 rows).
"""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, select

from workorders.db import make_engine
from workorders.models import WorkOrder

CATEGORIES = ("plumbing", "electrical", "hvac", "appliance", "general")
PRIORITIES = ("low", "normal", "high", "urgent")
STATUSES = ("open", "scheduled", "in_progress", "done", "cancelled")
BATCH = 10_000
#: Seeded orders are dated from here on, one millisecond apart (ids sort like the dates).
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
COLUMNS = [
    "id",
    "property_ref",
    "category",
    "priority",
    "title",
    "description",
    "status",
    "created_at",
    "updated_at",
    "version",
]


def _uuid7(millis: int, sequence: int) -> str:
    value = (millis & ((1 << 48) - 1)) << 80 | (sequence & ((1 << 62) - 1))
    value = (value & ~(0xF << 76)) | (0x7 << 76)
    value = (value & ~(0x3 << 62)) | (0x2 << 62)
    return str(uuid.UUID(int=value))


def _rows(start: int, stop: int) -> list[dict[str, object]]:
    rows = []
    for n in range(start, stop):
        moment = EPOCH + timedelta(milliseconds=n)
        rows.append(
            {
                "id": _uuid7(int(moment.timestamp() * 1000), n),
                "property_ref": f"P-{n % 977}",
                "category": CATEGORIES[n % len(CATEGORIES)],
                "priority": PRIORITIES[n % len(PRIORITIES)],
                "title": f"Seeded order {n}",
                "description": "",
                "status": STATUSES[n % len(STATUSES)],
                "created_at": moment,
                "updated_at": moment,
                "version": 1,
            }
        )
    return rows


def count(database_url: str) -> int:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(WorkOrder)).scalar_one())
    finally:
        engine.dispose()


def _copy_postgres(engine, start: int, stop: int) -> None:
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cursor:  # type: ignore[attr-defined]
            sql = f"COPY work_orders ({', '.join(COLUMNS)}) FROM STDIN"
            with cursor.copy(sql) as copy:
                for batch_start in range(start, stop, BATCH):
                    buffer = io.StringIO()
                    for row in _rows(batch_start, min(stop, batch_start + BATCH)):
                        buffer.write("\t".join(str(row[c]) for c in COLUMNS) + "\n")
                    copy.write(buffer.getvalue())
        raw.commit()
    finally:
        raw.close()


def grow(database_url: str, total: int) -> None:
    """Add seeded rows until the table holds ``total`` seeded orders (ids 0..total-1)."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            start = int(
                connection.execute(
                    select(func.count())
                    .select_from(WorkOrder)
                    .where(WorkOrder.title.like("Seeded order %"))
                ).scalar_one()
            )
        if start >= total:
            return
        if engine.dialect.name == "postgresql":
            _copy_postgres(engine, start, total)
        else:
            table = WorkOrder.__table__
            for batch_start in range(start, total, BATCH):
                with engine.begin() as connection:
                    connection.execute(
                        insert(table), _rows(batch_start, min(total, batch_start + BATCH))
                    )
        with engine.begin() as connection:
            if engine.dialect.name == "postgresql":
                connection.exec_driver_sql("ANALYZE work_orders")
    finally:
        engine.dispose()


def middle_cursor(total: int) -> str:
    """The id of the seeded order in the middle: a page from there is a deep page."""
    row = _rows(total // 2, total // 2 + 1)[0]
    return str(row["id"])
