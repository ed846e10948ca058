"""The units of work of one scan and how the cores share them.

A scanner that reads many files at once (dependency audit, checkov, the Kubernetes render)
is one job. A per-file scanner's files that are not in the cache are cut into batches,
each one job, so the cores share the big scanners instead of one of them finishing alone.
Jobs start longest first (by their estimated cost), the classic greedy schedule that keeps
the last job short.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from shiprail.findings import Finding
from shiprail.scan.scanners._util import CHUNK
from shiprail.scan.scanners.interface import Scanner, ScanNote, Unit

#: Estimated seconds per batch of a per-file scanner: short enough that the cores stay
#: evenly busy to the end, long enough that a tool's start-up is paid rarely.
BATCH_SECONDS = 15.0


@dataclass
class Job:
    scanner: Scanner
    files: list[Path]
    estimate: float
    #: the part of a scanner with units this job runs (None: ``scanner.scan(files)``)
    unit: Unit | None = None
    #: the cache key of the unit's result
    key: str = ""
    findings: list[Finding] = field(default_factory=list)
    notes: list[ScanNote] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0


def file_size(root: Path, path: Path) -> int:
    try:
        return (root / path).stat().st_size
    except OSError:
        return 0


def batches(
    root: Path, scanner: Scanner, files: list[Path], size: int = CHUNK
) -> Iterator[tuple[list[Path], int]]:
    """``files`` in order, cut into runs of at most ``size`` files and about
    :data:`BATCH_SECONDS` of the scanner's work; each with its byte count."""
    limit = BATCH_SECONDS / max(scanner.seconds_per_mb, 0.01) * 1_000_000
    batch: list[Path] = []
    total = 0
    for path in files:
        nbytes = file_size(root, path)
        if batch and (len(batch) >= size or total + nbytes > limit):
            yield batch, total
            batch, total = [], 0
        batch.append(path)
        total += nbytes
    if batch:
        yield batch, total


def estimate(scanner: Scanner, nbytes: int) -> float:
    return scanner.startup_seconds + scanner.seconds_per_mb * nbytes / 1_000_000


def run_all(jobs: list[Job], workers: int, work: Callable[[Job], None]) -> None:
    """Run every job on ``workers`` threads, longest estimate first (the pool takes
    queued jobs in order, so each free worker picks the longest job left)."""
    ordered = sorted(jobs, key=lambda j: -j.estimate)
    if workers <= 1 or len(ordered) <= 1:
        for job in ordered:
            work(job)
        return
    with ThreadPoolExecutor(max_workers=min(workers, len(ordered))) as pool:
        list(pool.map(work, ordered))
