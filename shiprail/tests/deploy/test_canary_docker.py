"""The canary proof on a real Docker Engine behind the real nginx edge, under load, with the
analysis read from the canary replicas' own /metrics.

Bad releases are the workorders image with its dev-only fault injection switched on at
start (5 % of API answers 500, or 800 ms added). For each scenario the figures (time to
detect, failed requests users saw) are printed and written to ``reports/canary-proof.json``;
the 5 % errors scenario is measured with blue/green too, in the same run.
"""

from __future__ import annotations

import io
import json
import tarfile
import time
from typing import Any

import pytest

from shiprail.deploy.settings import CanaryConfig, EnvironmentConfig
from shiprail.errors import DeployFailed
from shiprail.paths import repo_root

from .test_docker_integration import Env

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
    steps=[10, 25, 50, 100], interval_seconds=3, threshold=2, min_requests=10,
    max_paused_intervals=3,
)  # fmt: skip
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
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    buffer.seek(0)
    client.images.build(fileobj=buffer, custom_context=True, tag=tag, network_mode="none", rm=True)
    return tag


@pytest.fixture(scope="module")
def canary_env(tmp_path_factory: pytest.TempPathFactory, docker_client: Any) -> Any:
    env = Env(tmp_path_factory.mktemp("canary-it"), docker_client)
    base = env.images["v1"]
    env.images["errors5"] = _faulty(docker_client, base, f"{base}-e5", 0.05, 0.0)
    env.images["slow"] = _faulty(docker_client, base, f"{base}-slow", 0.0, 0.8)
    cfg = env.config.environments[env.name]
    env.config.environments[env.name] = EnvironmentConfig.model_validate(
        {**cfg.model_dump(), "strategy": "canary", "canary": CANARY.model_dump()}
    )
    try:
        env.engine().deploy(env.name, env.images["v1"])  # the stable release
        yield env
    finally:
        env.cleanup()
        report = repo_root() / "reports" / "canary-proof.json"
        report.parent.mkdir(exist_ok=True)
        report.write_text(json.dumps(FIGURES, indent=2) + "\n")
        print("\ncanary proof:", json.dumps(FIGURES, indent=2))


def _run(env: Any, image: str, *, load: bool = True) -> dict[str, Any]:
    started = time.monotonic()
    outcome, error = "live", ""
    if load:
        with env.load() as traffic:
            try:
                env.engine().deploy(env.name, env.images[image])
            except DeployFailed as exc:
                outcome, error = "aborted", exc.message
        result = traffic.result
        served = {"requests": result.requests, "failed": result.failures, "rate": result.rate}
    else:
        try:
            env.engine().deploy(env.name, env.images[image])
        except DeployFailed as exc:
            outcome, error = "aborted", exc.message
        served = {"requests": 0, "failed": 0, "rate": 0.0}
    attempt = env.ledger.attempts(env.name)[0]
    return {
        "outcome": outcome,
        "status": attempt.status,
        "seconds": round(time.monotonic() - started, 1),
        "analysis_seconds": attempt.timings.get("analysis"),
        "reason": error[:200],
        **served,
    }


def test_a_five_percent_errors_aborted_and_blue_green_compared(canary_env: Any) -> None:
    env = canary_env
    stable = env.ledger.live_release(env.name)
    canary = _run(env, "errors5")
    FIGURES["a-errors-5pct-canary"] = canary
    assert canary["status"] == "aborted" and "request-success-rate" in canary["reason"]
    assert env.served_version() == "1.0.0-it"
    cfg = env.config.environments[env.name]
    env.config.environments[env.name] = cfg.model_copy(update={"strategy": "blue-green"})
    try:
        blue_green = _run(env, "errors5")
    finally:
        env.config.environments[env.name] = cfg
    FIGURES["a-errors-5pct-blue-green"] = blue_green
    if blue_green["status"] == "succeeded":  # 5 % is within the watch's limit: it went live
        env.engine().rollback(env.name, to=stable.id, reason="canary proof: back to v1")
    assert env.served_version() == "1.0.0-it"
    # users met fewer errors with the canary than with blue/green in the same scenario
    assert canary["failed"] < blue_green["failed"], (canary, blue_green)


def test_b_slow_release_aborted(canary_env: Any) -> None:
    figures = _run(canary_env, "slow")
    FIGURES["b-p99-800ms"] = figures
    assert figures["status"] == "aborted" and "request-duration" in figures["reason"]
    assert canary_env.served_version() == "1.0.0-it"


def test_c_good_release_reaches_100(canary_env: Any) -> None:
    figures = _run(canary_env, "v2")
    FIGURES["c-good"] = figures
    assert figures["status"] == "succeeded" and figures["failed"] == 0, figures
    assert canary_env.served_version() == "2.0.0-it"


def test_d_zero_traffic_pauses(canary_env: Any) -> None:
    figures = _run(canary_env, "v3", load=False)
    FIGURES["d-zero-traffic"] = figures
    assert figures["status"] == "aborted" and "too little traffic" in figures["reason"]
    assert any("paused at step 1/4" in line for line in canary_env.log)
    assert canary_env.served_version() == "2.0.0-it"
