"""SQLite writers queue on one lock across threads and processes (see SqliteWriterLock)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

from sqlalchemy import create_engine

from workorders.queries import SqliteWriterLock, write_lock

HOLD = """
import sys, time
from workorders.queries import SqliteWriterLock
lock = SqliteWriterLock(sys.argv[1])
with lock:
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def test_a_writer_of_another_process_waits_until_the_holder_commits(tmp_path: Path) -> None:
    database = str(tmp_path / "orders.db")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, database, "0.6"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        with SqliteWriterLock(database):
            waited = time.monotonic() - started
    finally:
        holder.wait(timeout=10)
    assert waited >= 0.3, f"entered after {waited:.2f}s while another process held the lock"
    assert Path(database + ".writer-lock").exists()


def test_threads_of_one_process_take_turns(tmp_path: Path) -> None:
    lock = SqliteWriterLock(str(tmp_path / "orders.db"))
    inside: list[int] = []
    overlaps: list[int] = []

    def write(n: int) -> None:
        for _ in range(20):
            with lock:
                inside.append(n)
                if len(inside) > 1:
                    overlaps.append(n)
                time.sleep(0.001)
                inside.remove(n)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert overlaps == []


def test_an_error_inside_releases_the_lock_and_memory_databases_need_no_file(
    tmp_path: Path,
) -> None:
    lock = SqliteWriterLock(str(tmp_path / "orders.db"))
    try:
        with lock:
            raise ValueError("the write failed")
    except ValueError:
        pass
    with lock:  # would block forever if the failed write kept it
        pass
    memory = SqliteWriterLock(":memory:")
    with memory:
        pass
    assert not list(tmp_path.glob(":memory:*"))
    postgres = write_lock(create_engine("postgresql+psycopg://u@127.0.0.1:1/none"))
    assert not isinstance(postgres, SqliteWriterLock)
