"""The hot reads and writes as SQLAlchemy Core statements, built once and run in one call.

Listing and creating are what clients do most. The ORM's unit of work (identity map, change
tracking, a ``Session`` per request) buys nothing there: a list reads rows it never changes,
and a create writes one row whose values are all known. Core statements with bound
parameters skip that machinery; they are built once per shape (which filters are present)
and SQLAlchemy reuses their compiled SQL. Reads and changes of one work order (``GET`` by id,
``PATCH``, transitions) keep the ORM session, whose version counter enforces ``If-Match``.

Each function is one database round trip on a pooled connection and is called once per
request from a worker thread, so a request crosses into the thread pool once.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from functools import cache
from typing import Any, TypeVar

import anyio.to_thread

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX
    fcntl = None  # type: ignore[assignment]
from sqlalchemy import (
    DateTime,
    Engine,
    Enum,
    Row,
    Select,
    String,
    Table,
    bindparam,
    insert,
    select,
    type_coerce,
)

from workorders.models import WorkOrder

T = TypeVar("T")
#: Database calls in flight per worker. More threads only queue on the GIL and the pool;
#: equal to the pool's size, so a call never waits for a connection.
DATABASE_THREADS = 5
_TABLE: Table = WorkOrder.__table__  # type: ignore[assignment]
_INSERT = insert(_TABLE)
#: Filters a list may combine, in the order of the ``list_page`` arguments.
FILTERS = ("status", "category", "priority")


#: The columns as the driver returns them. SQLAlchemy would turn enum strings into enums and,
#: on SQLite, datetime strings into datetimes, value by value in Python; the page's pydantic
#: validation (in its core) does both anyway, so the rows skip SQLAlchemy's processing.
_RAW_COLUMNS = [
    type_coerce(column, String()).label(column.name)
    if isinstance(column.type, (Enum, DateTime))
    else column
    for column in _TABLE.columns
]


@cache
def _list_statement(filters: tuple[str, ...], after_cursor: bool) -> Select[Any]:
    """Newest first, keyset pagination on the primary key (ids are time-ordered UUIDv7)."""
    query = select(*_RAW_COLUMNS)
    for name in filters:
        query = query.where(_TABLE.c[name] == bindparam(name))
    if after_cursor:
        query = query.where(_TABLE.c.id < bindparam("cursor"))
    return query.order_by(_TABLE.c.id.desc()).limit(bindparam("limit"))


def list_page(
    engine: Engine, filters: Mapping[str, object], cursor: str | None, limit: int
) -> Sequence[Row[Any]]:
    """Up to ``limit`` rows older than ``cursor`` matching every filter that is not None."""
    used = tuple(name for name in FILTERS if filters.get(name) is not None)
    params: dict[str, object] = {name: filters[name] for name in used}
    params["limit"] = limit
    if cursor is not None:
        params["cursor"] = cursor
    with engine.connect() as connection:
        return connection.execute(_list_statement(used, cursor is not None), params).all()


def insert_one(
    engine: Engine, values: Mapping[str, object], write_lock: AbstractContextManager[Any]
) -> None:
    """Insert one work order and commit, holding ``write_lock`` (see :func:`write_lock`)."""
    with write_lock, engine.begin() as connection:
        connection.execute(_INSERT, dict(values))


class SqliteWriterLock:
    """Lets one writer of the database file in at a time, across threads and processes.

    SQLite lets one writer in at a time; the others poll with growing sleeps (1, 2, 5, 10 ...
    up to 100 ms) until the lock is free, which is what made create's p99 latency hundreds of
    milliseconds under load, and with several workers (processes) still over 100 ms. Writers
    that queue here instead are each let in as soon as the previous one commits: a thread
    lock orders the threads of a process, then an ``flock`` on a file beside the database
    orders the processes (the kernel wakes the next waiter at once). A database without a
    file (``:memory:``) or a platform without ``flock`` keeps the thread lock alone.
    """

    def __init__(self, database: str | None) -> None:
        self._threads = threading.Lock()
        has_file = database and database != ":memory:" and fcntl is not None
        #: the lock file beside the database, or None when the thread lock is all there is
        self._path = f"{database}.writer-lock" if has_file else None
        self._fd: int | None = None  # opened on the first write

    def __enter__(self) -> None:
        self._threads.acquire()
        try:
            if self._path is not None:
                if self._fd is None:
                    self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
                fcntl.flock(self._fd, fcntl.LOCK_EX)
        except BaseException:
            self._threads.release()
            raise

    def __exit__(self, *_exc: object) -> None:
        try:
            if self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()


def write_lock(engine: Engine) -> AbstractContextManager[Any]:
    """What a write holds: :class:`SqliteWriterLock` for SQLite, nothing for PostgreSQL."""
    if engine.dialect.name != "sqlite":
        return nullcontext()
    return SqliteWriterLock(engine.url.database)


async def in_thread(state: Any, func: Callable[..., T], *args: object) -> T:
    """Run ``func`` in a worker thread, at most ``DATABASE_THREADS`` at a time per app.

    The limiter is made by the app's lifespan (it belongs to the running event loop); a
    request served without it (a test client not started as a context) shares anyio's pool.
    """
    limiter = getattr(state, "database_limiter", None)
    return await anyio.to_thread.run_sync(func, *args, limiter=limiter)
