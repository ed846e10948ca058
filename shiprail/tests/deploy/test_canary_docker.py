"""The canary proof on a real Docker Engine behind the real nginx edge, under load, with the
analysis read from the canary replicas' own /metrics, and once from a real Prometheus.

Bad releases are the workorders image with its dev-only fault injection switched on at
start (5 % of API answers 500, or 800 ms added). The load is open-loop (a fixed request
rate, see ``paced_load.py``) and every request carries its own id, so the edge's access log
says exactly which requests reached the bad release.

For each scenario: the time to detect (first traffic split to the abort decision, from the
attempt's ``detect`` timing), the requests that reached the bad release, and the failed
requests users saw. Scenarios (a) and (b) run with blue/green too, in the same run and with
the same measurement window: from the first request the bad release could get (split or
switch) for the canary's time until all traffic was back on stable, plus ``MARGIN_SECONDS``.
The figures are printed and written to ``reports/canary-proof.json``.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import socket
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from shiprail._subprocess import which
from shiprail.deploy.engine import Engine
from shiprail.deploy.platform import docker_platform
from shiprail.deploy.settings import CanaryConfig, EnvironmentConfig
from shiprail.errors import DeployFailed
from shiprail.observe.drill.processes import Processes
from shiprail.paths import repo_root

from .paced_load import PacedLoad, edge_requests, releases_served
from .test_docker_integration import Env, build_from_files, local_trust
from conftest import require_tools

pytestmark = pytest.mark.docker

FAULTS = """
import os, sys
args = sys.argv[1:]
if args[:1] != ["serve"]:
    os.execvp("workorders", ["workorders", *args])
import uvicorn
from workorders.faults import FaultSettings
from workorders.main import create_app
def factory():
    app = create_app()
    app.state.faults.set(FaultSettings(
        error_ratio=float(os.environ["SHIPRAIL_TEST_ERRORS"]),
        delay_seconds=float(os.environ["SHIPRAIL_TEST_DELAY"])))
    return app
uvicorn.run(factory, factory=True, host="0.0.0.0", port=8000, log_level="warning")
"""
CANARY = CanaryConfig(
    steps=[10, 25, 50, 100], interval_seconds=2, threshold=2, min_requests=3,
    max_paused_intervals=3,
)  # fmt: skip
#: Prometheus needs a few 1 s scrapes inside each analysis interval's range.
CANARY_PROMETHEUS = CANARY.model_copy(update={"interval_seconds": 3})
#: Requests per second of the users' load (open loop).
RATE = 40.0
#: Added to the canary's exposure to make the window both strategies are measured over.
MARGIN_SECONDS = 10.0
#: The canary must expose at most this share of what blue/green exposes.
MAX_SHARE = 0.35
#: Through Prometheus the verdict lags the replicas' own counters by a scrape and a range
#: window, so the canary may be judged one step later: still at most half of the requests
#: (blue/green sends them all to the new release).
PROMETHEUS_MAX_SHARE = 0.5
FIGURES: dict[str, dict[str, Any]] = {}


def _faulty(client: Any, base: str, tag: str, errors: float, delay: float) -> str:
    files = {
        "wrapper.py": FAULTS.encode(),
        "Dockerfile": (
            f"FROM {base}\nENV WORKORDERS_VERSION=9.0.0-faulty\n"
            f"ENV SHIPRAIL_TEST_ERRORS={errors} SHIPRAIL_TEST_DELAY={delay}\n"
            "COPY wrapper.py /opt/test/wrapper.py\n"
            'ENTRYPOINT ["python3", "/opt/test/wrapper.py"]\n'
            'CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]\n'
        ).encode(),
    }
    return build_from_files(client, files, tag)


class TimedLog(list[str]):
    """The engine's progress lines, each with the ``time.monotonic`` it was said at."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []

    def append(self, line: str) -> None:
        self.times.append(time.monotonic())
        super().append(line)

    def first(self, prefix: str, after: float = 0.0) -> float | None:
        for at, line in zip(self.times, self, strict=True):
            if at >= after and line.startswith(prefix):
                return at
        return None


@pytest.fixture(scope="module")
def canary_env(tmp_path_factory: pytest.TempPathFactory, docker_client: Any) -> Any:
    env = Env(tmp_path_factory.mktemp("canary-it"), docker_client)
    env.log = TimedLog()
    base = env.images["v1"]
    env.images["errors5"] = _faulty(docker_client, base, f"{base}-e5", 0.05, 0.0)
    env.images["slow"] = _faulty(docker_client, base, f"{base}-slow", 0.0, 0.8)
    _set(env, strategy="canary", canary=CANARY)
    try:
        env.engine().deploy(env.name, env.images["v1"])  # the stable release
        yield env
    finally:
        env.cleanup()
        report = repo_root() / "reports" / "canary-proof.json"
        report.parent.mkdir(exist_ok=True)
        report.write_text(json.dumps(FIGURES, indent=2) + "\n")
        print("\ncanary proof:", json.dumps(FIGURES, indent=2))


def _set(env: Any, *, strategy: str, canary: CanaryConfig = CANARY) -> None:
    cfg = env.config.environments[env.name]
    env.config.environments[env.name] = EnvironmentConfig.model_validate(
        {**cfg.model_dump(), "strategy": strategy, "canary": canary.model_dump()}
    )


def _engine(env: Any, prometheus_url: str | None) -> Engine:
    if prometheus_url is None:
        return env.engine()
    return Engine(
        env.config,
        env.ledger,
        docker_platform(
            env.state,
            env.state,
            prometheus_url=prometheus_url,
            trust=local_trust(env.state, env.client),
        ),
        file_sd_dir=env.state / "targets",
        root=env.state,
        actor="integration",
        say=env.log.append,
    )


def _deploy(env: Any, image: str, prometheus_url: str | None = None) -> str:
    """Deploy; the reason it was refused, or "" when the release went live."""
    try:
        _engine(env, prometheus_url).deploy(env.name, env.images[image])
    except DeployFailed as exc:
        return exc.message
    return ""


def _scenario(
    env: Any,
    image: str,
    *,
    window: float | None = None,
    prometheus_url: str | None = None,
) -> dict[str, Any]:
    """Deploy ``image`` under load with the environment's strategy and measure it.

    ``window``: the measurement window after the first request the bad release could get;
    None (a canary) makes it the canary's exposure plus ``MARGIN_SECONDS``."""
    strategy = env.config.environments[env.name].strategy
    stable = env.ledger.live_release(env.name)
    began = time.monotonic()
    with PacedLoad(
        env.url + "/api/v1/workorders",
        rate=RATE,
        verify=env.ca,
        host=f"{env.name}.localhost",
        tag=secrets.token_hex(4),
    ) as load:
        reason = _deploy(env, image, prometheus_url)
        shifted = env.log.first("step 1/" if strategy == "canary" else "switching the edge", began)
        assert shifted is not None, list(env.log)
        back = env.log.first("switching back to", shifted)
        if window is None:
            assert back is not None, "a canary's window is measured from its abort"
            window = back - shifted + MARGIN_SECONDS
        # the new release took requests until the switch back, else to the end of the window
        exposed = min(window, back - shifted) if back is not None else window
        end = shifted + window
        if back is None:  # still serving the bad release: users meet it until the window ends
            time.sleep(max(0.0, end - time.monotonic()))
        load.stop()
    bad = next(r for r in env.ledger.releases(env.name) if r.image == env.images[image])
    served = edge_requests(env.edge)
    measured = load.between(began, end)
    attempt = next(a for a in env.ledger.attempts(env.name) if a.release_id == bad.id)
    if strategy == "blue-green" and back is None:  # the bad release went live: stable back
        env.engine().rollback(env.name, to=stable.id, reason="canary proof: back to stable")
    detect = attempt.timings.get("detect")
    if detect is None and back is not None and attempt.status != "succeeded":
        detect = back - shifted  # blue/green: from the switch to the switch back
    return {
        "strategy": strategy,
        "analysis": "prometheus" if prometheus_url else "replica /metrics",
        "outcome": attempt.status,
        "detect_seconds": None if detect is None else round(detect, 1),
        "exposed_seconds": round(exposed, 1),
        "window_seconds": round(window, 1),
        "requests_after_shift": sum(1 for s in measured if s.at >= shifted),
        "reached_bad_release": sum(1 for s in measured if served.get(s.request_id) == bad.id),
        "failed_seen": sum(1 for s in measured if s.failed),
        "failed_statuses": dict(Counter(s.status for s in measured if s.failed)),
        "reason": reason[:200],
    }


def _compare(scenario: str, canary: dict[str, Any], blue_green: dict[str, Any]) -> None:
    share = canary["reached_bad_release"] / max(1, blue_green["reached_bad_release"])
    FIGURES[f"{scenario}-canary"] = canary
    FIGURES[f"{scenario}-blue-green"] = blue_green
    FIGURES[f"{scenario}-canary-share-of-blue-green"] = {"reached_bad_release": round(share, 3)}
    assert blue_green["window_seconds"] == canary["window_seconds"]
    assert canary["reached_bad_release"] > 0, canary
    assert share <= MAX_SHARE, (canary, blue_green)
    assert canary["failed_seen"] <= blue_green["failed_seen"], (canary, blue_green)


@contextlib.contextmanager
def _blue_green(env: Any) -> Iterator[None]:
    _set(env, strategy="blue-green")
    try:
        yield
    finally:
        _set(env, strategy="canary")


def test_a_five_percent_errors_aborted_and_blue_green_compared(canary_env: Any) -> None:
    env = canary_env
    canary = _scenario(env, "errors5")
    assert canary["outcome"] == "aborted" and "request-success-rate" in canary["reason"]
    assert env.served_version() == "1.0.0-it"
    with _blue_green(env):
        blue_green = _scenario(env, "errors5", window=canary["window_seconds"])
    assert env.served_version() == "1.0.0-it"
    _compare("a-errors-5pct", canary, blue_green)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def _prometheus(workdir: Path, targets_dir: Path) -> Iterator[str]:
    """A real Prometheus scraping the file_sd targets deploy writes, every second."""
    require_tools("prometheus")
    binary = which("prometheus")
    assert binary is not None
    config = {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
        "scrape_configs": [
            {
                "job_name": "workorders",
                "file_sd_configs": [
                    {"files": [str(targets_dir / "*.json")], "refresh_interval": "1s"}
                ],
            }
        ],
    }
    (workdir / "prometheus.yml").write_text(yaml.safe_dump(config))
    url = f"http://127.0.0.1:{_free_port()}"
    processes = Processes(workdir)
    processes.start(
        "prometheus",
        [
            binary,
            f"--config.file={workdir / 'prometheus.yml'}",
            f"--storage.tsdb.path={workdir / 'data'}",
            f"--web.listen-address={url.removeprefix('http://')}",
        ],
    )
    try:
        processes.wait_http("prometheus", f"{url}/-/ready")
        yield url
    finally:
        processes.stop("prometheus")


@pytest.mark.prometheus
def test_a_five_percent_errors_aborted_by_real_prometheus(canary_env: Any, tmp_path: Path) -> None:
    """The same release judged by the default Flagger PromQL checks, evaluated by Prometheus
    over the canary's own series (its ``release`` label, from the file_sd targets)."""
    env = canary_env
    _set(env, strategy="canary", canary=CANARY_PROMETHEUS)
    try:
        with _prometheus(tmp_path, env.state / "targets") as url:
            figures = _scenario(env, "errors5", prometheus_url=url)
    finally:
        _set(env, strategy="canary")
    FIGURES["a-errors-5pct-canary-prometheus"] = figures
    assert figures["outcome"] == "aborted", figures
    assert "request-success-rate" in figures["reason"], figures
    assert (
        0
        < figures["reached_bad_release"]
        < (figures["requests_after_shift"] * PROMETHEUS_MAX_SHARE)
    )
    assert env.served_version() == "1.0.0-it"


def test_b_slow_release_aborted_and_blue_green_compared(canary_env: Any) -> None:
    env = canary_env
    canary = _scenario(env, "slow")
    assert canary["outcome"] == "aborted" and "request-duration" in canary["reason"], canary
    assert env.served_version() == "1.0.0-it"
    with _blue_green(env):
        blue_green = _scenario(env, "slow", window=canary["window_seconds"])
    assert blue_green["outcome"] == "failed" and "p95 latency" in blue_green["reason"]
    assert env.served_version() == "1.0.0-it"
    _compare("b-p99-800ms", canary, blue_green)


def test_c_good_release_reaches_100(canary_env: Any) -> None:
    figures = _scenario(canary_env, "v2", window=MARGIN_SECONDS)
    FIGURES["c-good"] = figures
    assert figures["outcome"] == "succeeded" and figures["failed_seen"] == 0, figures
    assert figures["detect_seconds"] is None
    assert canary_env.served_version() == "2.0.0-it"


def test_d_zero_traffic_pauses(canary_env: Any) -> None:
    env = canary_env
    reason = _deploy(env, "v3")
    bad = env.ledger.releases(env.name)[0]
    attempt = env.ledger.attempts(env.name)[0]
    reached = releases_served(env.edge, bad.id)
    FIGURES["d-zero-traffic"] = {
        "strategy": "canary",
        "analysis": "replica /metrics",
        "outcome": attempt.status,
        "detect_seconds": round(attempt.timings["detect"], 1),
        "reached_bad_release": reached,
        "failed_seen": 0,
        "reason": reason[:200],
    }
    assert attempt.status == "aborted" and "too little traffic" in reason
    assert any("paused at step 1/4" in line for line in env.log)
    assert reached == 0
    assert env.served_version() == "2.0.0-it"
