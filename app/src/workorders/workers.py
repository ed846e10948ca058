"""How many worker processes to run, and the metrics plumbing several workers need.

The container should use the CPUs it is given, no more: the worker count comes from the
cgroup CPU limit (v2 ``cpu.max``, v1 ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us``), rounded
up, capped by the CPUs the process may run on, and ``os.cpu_count()`` when there is no limit.
``WORKORDERS_WORKERS`` or ``workorders serve --workers`` overrides it.

With more than one worker, prometheus_client's multiprocess mode aggregates the metrics: each
worker writes its samples to files in ``PROMETHEUS_MULTIPROC_DIR`` (a private directory that
``workorders serve`` creates empty and removes on exit), and ``/metrics`` reads them all. The
process collector does not work across processes, so :class:`WorkersProcessCollector` sums
the ``process_*`` figures of the live workers, keeping the series ``/metrics`` always had.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable
from pathlib import Path

from prometheus_client import ProcessCollector
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CGROUP_ROOT = Path("/sys/fs/cgroup")
#: Files a worker leaves in the multiprocess directory so the collector can find it.
_WORKER_MARK = "worker_{pid}.pid"


def _quota_v2(root: Path) -> float | None:
    try:
        quota, period = (root / "cpu.max").read_text().split()[:2]
    except (OSError, ValueError):
        return None
    if quota == "max":
        return None
    return int(quota) / int(period)


def _quota_v1(root: Path) -> float | None:
    for base in (root / "cpu", root / "cpu,cpuacct", root):
        try:
            quota = int((base / "cpu.cfs_quota_us").read_text())
            period = int((base / "cpu.cfs_period_us").read_text())
        except (OSError, ValueError):
            continue
        return quota / period if quota > 0 and period > 0 else None
    return None


def cpu_limit(root: Path = CGROUP_ROOT) -> float | None:
    """The cgroup CPU quota in CPUs (``1.5`` for ``--cpus 1.5``), or None when unlimited."""
    return _quota_v2(root) if (root / "cpu.max").exists() else _quota_v1(root)


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def default_workers(root: Path = CGROUP_ROOT) -> int:
    """One worker per CPU the container may use: the quota rounded up, capped by the CPUs."""
    cpus = available_cpus()
    limit = cpu_limit(root)
    if limit is None:
        return cpus
    return max(1, min(cpus, math.ceil(limit)))


def multiprocess_directory() -> str | None:
    """The multiprocess metrics directory when several workers share metrics, else None."""
    return os.environ.get(MULTIPROC_ENV) or None


def prepare_multiprocess_directory(directory: Path) -> None:
    """Empty ``directory`` of stale samples (a previous run's counters must not leak in)."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    for stale in directory.iterdir():
        if stale.is_file():
            stale.unlink()


def mark_worker(directory: str, pid: int | None = None) -> None:
    """Record this worker's pid so the process collector counts it."""
    Path(directory, _WORKER_MARK.format(pid=pid or os.getpid())).touch()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - another user's pid: it exists
        return True
    return True


def worker_pids(directory: str) -> list[int]:
    """Pids of the live workers that marked themselves in ``directory``."""
    pids = []
    for mark in Path(directory).glob(_WORKER_MARK.format(pid="*")):
        pid = int(mark.name.split("_", 1)[1].split(".", 1)[0])
        if _alive(pid):
            pids.append(pid)
    return sorted(pids)


#: How each process_* series combines across workers.
_SUM = {"process_cpu_seconds_total", "process_resident_memory_bytes"}
_SUM |= {"process_virtual_memory_bytes", "process_open_fds"}


def _fixed(pid: int) -> Callable[[], int]:
    return lambda: pid


class WorkersProcessCollector(Collector):
    """``process_*`` metrics of all live workers: totals for CPU, memory and open files,
    the earliest start time and the largest descriptor limit."""

    def __init__(self, directory: str) -> None:
        self.directory = directory

    def collect(self) -> Iterable[Metric]:
        values: dict[str, float] = {}
        families: dict[str, Metric] = {}
        for pid in worker_pids(self.directory):
            collector = ProcessCollector(pid=_fixed(pid), registry=None)
            for family in collector.collect():
                value = family.samples[0].value
                name = family.name + ("_total" if family.type == "counter" else "")
                if name not in families:
                    families[name], values[name] = family, value
                elif name in _SUM:
                    values[name] += value
                elif name == "process_start_time_seconds":
                    values[name] = min(values[name], value)
                else:
                    values[name] = max(values[name], value)
        for name, family in families.items():
            kind = CounterMetricFamily if family.type == "counter" else GaugeMetricFamily
            yield kind(family.name, family.documentation, value=values[name])


def process_collector(directory: str | None) -> Collector:
    """The process collector for this app: this process alone, or every worker."""
    if directory is None:
        return ProcessCollector(registry=None)
    mark_worker(directory)
    return WorkersProcessCollector(directory)
