"""Worker count from the CPU limit, and metrics shared by several workers.

The cgroup files are written to a temporary directory laid out like ``/sys/fs/cgroup`` (v2 and
v1), the real layout the functions read. The last test runs ``workorders serve --workers 2``
for real and checks that ``/metrics`` counts the requests of both workers.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry, generate_latest

from workorders import cli, migrate, workers

from conftest import TOKEN_HASH


def _cgroup_v2(tmp_path: Path, cpu_max: str) -> Path:
    (tmp_path / "cpu.max").write_text(cpu_max + "\n")
    return tmp_path


def _cgroup_v1(tmp_path: Path, quota: int, period: int) -> Path:
    controller = tmp_path / "cpu,cpuacct"
    controller.mkdir()
    (controller / "cpu.cfs_quota_us").write_text(f"{quota}\n")
    (controller / "cpu.cfs_period_us").write_text(f"{period}\n")
    return tmp_path


def test_cgroup_v2_quota_is_read_in_cpus(tmp_path: Path) -> None:
    assert workers.cpu_limit(_cgroup_v2(tmp_path, "150000 100000")) == 1.5
    assert workers.cpu_limit(_cgroup_v2(tmp_path, "max 100000")) is None


def test_cgroup_v1_quota_is_read_in_cpus(tmp_path: Path) -> None:
    assert workers.cpu_limit(_cgroup_v1(tmp_path, 200000, 100000)) == 2.0
    unlimited = tmp_path / "unlimited"
    unlimited.mkdir()
    assert workers.cpu_limit(_cgroup_v1(unlimited, -1, 100000)) is None


def test_no_cgroup_files_means_no_limit(tmp_path: Path) -> None:
    assert workers.cpu_limit(tmp_path) is None
    assert workers.default_workers(tmp_path) == workers.available_cpus()


def test_workers_follow_the_limit_rounded_up_and_capped_by_the_cpus(tmp_path: Path) -> None:
    cpus = workers.available_cpus()
    assert workers.default_workers(_cgroup_v2(tmp_path, "50000 100000")) == 1  # half a CPU
    assert workers.default_workers(_cgroup_v2(tmp_path, "150000 100000")) == min(2, cpus)
    assert workers.default_workers(_cgroup_v2(tmp_path, "6400000 100000")) == cpus


def test_worker_count_option_beats_environment_beats_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(cli.WORKERS_ENV, "3")
    assert cli.worker_count(5) == 5
    assert cli.worker_count(None) == 3
    monkeypatch.delenv(cli.WORKERS_ENV)
    assert cli.worker_count(None) == workers.default_workers()


@pytest.mark.parametrize("value", ["0", "-2", "many"])
def test_bad_worker_counts_are_usage_errors(
    value: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WORKORDERS_ENV", "dev")
    monkeypatch.setenv(cli.WORKERS_ENV, value)
    assert cli.main(["serve"]) == 2
    err = capsys.readouterr().err
    assert cli.WORKERS_ENV in err and "Traceback" not in err
    monkeypatch.delenv(cli.WORKERS_ENV)
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["serve", "--workers", value])
    assert exit_info.value.code == 2


def test_multiprocess_directory_is_emptied_and_workers_are_found(tmp_path: Path) -> None:
    stale = tmp_path / "counter_1.db"
    stale.write_bytes(b"old samples")
    workers.prepare_multiprocess_directory(tmp_path)
    assert not stale.exists()
    workers.mark_worker(str(tmp_path))
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    workers.mark_worker(str(tmp_path), int(dead.stdout))
    assert workers.worker_pids(str(tmp_path)) == [os.getpid()]


def test_process_metrics_sum_the_live_workers(tmp_path: Path) -> None:
    workers.mark_worker(str(tmp_path))
    registry = CollectorRegistry()
    registry.register(workers.WorkersProcessCollector(str(tmp_path)))
    text = generate_latest(registry).decode()
    for name in ("process_cpu_seconds_total", "process_resident_memory_bytes",
                 "process_open_fds", "process_max_fds", "process_start_time_seconds"):  # fmt: skip
        assert f"\n{name} " in text or text.startswith(f"{name} ") or f"# TYPE {name}" in text
    single = registry.get_sample_value("process_resident_memory_bytes")
    workers.mark_worker(str(tmp_path), os.getppid())  # a second live process
    assert registry.get_sample_value("process_resident_memory_bytes") > single


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _in_process(code: str, directory: Path) -> str:
    env = {**os.environ, workers.MULTIPROC_ENV: str(directory)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, check=True)  # fmt: skip
    return done.stdout


def test_metrics_of_several_processes_add_up(tmp_path: Path) -> None:
    writer = (
        "from workorders.observability import Metrics\n"
        "m = Metrics()\n"
        "m.observe_request('GET', '/health', 200, 0.004)\n"
        "m.created.labels('hvac').inc()\n"
    )
    _in_process(writer, tmp_path)
    _in_process(writer, tmp_path)
    text = _in_process(
        "from prometheus_client import generate_latest\n"
        "from workorders.observability import Metrics\n"
        "print(generate_latest(Metrics().registry).decode())\n",
        tmp_path,
    )
    assert 'http_requests_total{method="GET",route="/health",status="200"} 2.0' in text
    assert 'http_request_duration_seconds_bucket{le="0.005",method="GET",route="/health"} 2.0' in (
        text
    )
    assert 'workorders_created_total{category="hvac"} 2.0' in text
    assert "process_resident_memory_bytes" in text


def test_serve_with_two_workers_counts_every_request(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'wo.db'}"
    migrate.upgrade(url)
    port = _free_port()
    env = {**os.environ, "WORKORDERS_ENV": "stage", "WORKORDERS_DATABASE_URL": url,
           "WORKORDERS_API_TOKEN_HASHES": TOKEN_HASH}  # fmt: skip
    env.pop(workers.MULTIPROC_ENV, None)
    server = subprocess.Popen(
        [sys.executable, "-m", "workorders.cli", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base)
        counts = []
        for _ in range(30):  # a new connection each time: the kernel picks the worker
            counts.append(_served(httpx.get(f"{base}/metrics").text))
        # One total for the service whichever worker answers: it never goes back.
        assert counts == sorted(counts)
        assert counts[-1] >= 28  # the request just before may still be being counted
    finally:
        server.terminate()
        _, err = server.communicate(timeout=30)
    assert "serving with 2 worker(s)" in err


def _wait_until_up(base: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{base}/health", timeout=2)
            time.sleep(1)  # let the second worker start listening too
            return
        except httpx.TransportError:
            time.sleep(0.2)
    pytest.fail("workorders serve did not start")


def _served(metrics: str) -> float:
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith('http_requests_total{method="GET",route="/metrics"')
    )


def test_several_workers_without_a_writable_temp_dir_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WORKORDERS_ENV", "dev")
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "missing"))
    assert cli.main(["serve", "--workers", "2"]) == 2
    err = capsys.readouterr().err
    assert "writable temporary directory" in err and "Traceback" not in err


def test_faults_set_through_one_worker_apply_to_every_worker(tmp_path: Path) -> None:
    """Workers share the faults through their multiprocess directory: a drill that sets
    (or clears) them through whichever worker answers changes them for all."""
    from workorders.faults import FaultSettings, FaultState

    one, other = FaultState(str(tmp_path)), FaultState(str(tmp_path))
    one.set(FaultSettings(error_ratio=1.0, delay_seconds=0.5))
    assert other.settings.delay_seconds == 0.5 and other.should_fail()
    other.set(FaultSettings())
    assert one.settings == FaultSettings() and not one.should_fail()
    assert FaultState().settings == FaultSettings()  # one worker: in memory, no file
