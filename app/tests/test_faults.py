"""Fault injection: exact error ratios and delays in dev, absent outside dev; and the
open-work-orders business gauge read at scrape time."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

from fastapi.testclient import TestClient

from workorders import migrate
from workorders.faults import FaultSettings, FaultState
from workorders.main import create_app
from workorders.settings import Settings

TOKEN = "faults-test-token-3b7e"
TOKEN_HASH = hashlib.sha256(TOKEN.encode()).hexdigest()
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _app(tmp_path: Path, env: str = "dev") -> TestClient:
    url = f"sqlite:///{tmp_path / 'wo.db'}"
    migrate.upgrade(url)
    settings = Settings(env=env, database_url=url, api_token_hashes=[TOKEN_HASH])  # type: ignore[arg-type]
    return TestClient(create_app(settings))


def test_error_ratio_is_exact_and_deterministic() -> None:
    state = FaultState()
    state.set(FaultSettings(error_ratio=0.25))
    assert [state.should_fail() for _ in range(8)] == [False, False, False, True] * 2
    state.set(FaultSettings(error_ratio=1.0))
    assert all(state.should_fail() for _ in range(5))
    state.set(FaultSettings())
    assert not any(state.should_fail() for _ in range(5))


def test_half_of_api_requests_fail_and_monitoring_endpoints_never_do(tmp_path: Path) -> None:
    with _app(tmp_path) as client:
        assert (
            client.put("/debug/faults", json={"error_ratio": 0.5}, headers=AUTH).status_code == 200
        )
        statuses = [client.get("/api/v1/workorders").status_code for _ in range(10)]
        assert statuses.count(500) == 5 and statuses.count(200) == 5
        failed = next(
            r for r in (client.get("/api/v1/workorders") for _ in range(2)) if r.status_code == 500
        )
        assert failed.json()["error"]["code"] == "injected_fault"
        assert all(client.get(path).status_code == 200 for path in ("/health", "/metrics"))
        metrics = client.get("/metrics").text
        assert 'http_requests_total{method="GET",route="/api/v1/workorders",status="500"} 6.0' in (
            metrics
        )
        assert client.get("/debug/faults").json() == {"error_ratio": 0.5, "delay_seconds": 0.0}
        assert client.delete("/debug/faults", headers=AUTH).json()["error_ratio"] == 0.0
        assert client.get("/api/v1/workorders").status_code == 200


def test_delay_slows_api_requests(tmp_path: Path) -> None:
    with _app(tmp_path) as client:
        client.put("/debug/faults", json={"delay_seconds": 0.3}, headers=AUTH)
        started = time.perf_counter()
        assert client.get("/api/v1/workorders").status_code == 200
        assert time.perf_counter() - started >= 0.3
        started = time.perf_counter()
        client.get("/health")
        assert time.perf_counter() - started < 0.3


def test_invalid_faults_are_refused(tmp_path: Path) -> None:
    with _app(tmp_path) as client:
        assert client.put("/debug/faults", json={"error_ratio": 2}, headers=AUTH).status_code == 422
        assert (
            client.put("/debug/faults", json={"delay_seconds": -1}, headers=AUTH).status_code == 422
        )


def test_changing_faults_needs_a_token(tmp_path: Path) -> None:
    with _app(tmp_path) as client:
        assert client.put("/debug/faults", json={"error_ratio": 1}).status_code == 401
        bad = {"Authorization": "Bearer wrong"}
        assert client.delete("/debug/faults", headers=bad).status_code == 401
        assert client.get("/api/v1/workorders").status_code == 200


def test_fault_endpoints_do_not_exist_outside_dev(tmp_path: Path) -> None:
    with _app(tmp_path, env="stage") as client:
        assert client.put("/debug/faults", json={"error_ratio": 1}).status_code in (404, 405)
        assert client.get("/debug/faults").status_code == 404
        assert client.get("/api/v1/workorders").status_code == 200
        assert "/debug/faults" not in client.get("/openapi.json").json()["paths"]


def test_open_work_orders_gauge_counts_by_status(tmp_path: Path) -> None:
    with _app(tmp_path) as client:
        body = {"title": "Leaking tap", "category": "plumbing", "property_ref": "BLD-12/4B"}
        created = client.post("/api/v1/workorders", json=body, headers=AUTH)
        assert created.status_code == 201, created.text
        client.post("/api/v1/workorders", json=body, headers=AUTH)
        metrics = client.get("/metrics").text
        assert 'workorders_open{status="open"} 2.0' in metrics
        assert 'workorders_open{status="scheduled"} 0.0' in metrics


def test_open_work_orders_gauge_is_skipped_when_the_database_fails(tmp_path: Path) -> None:
    with _app(tmp_path) as client:
        client.app.state.engine.dispose()  # type: ignore[attr-defined]
        (tmp_path / "wo.db").unlink()
        (tmp_path / "wo.db").mkdir()  # the database path is now a directory: queries fail
        response = client.get("/metrics")
        assert response.status_code == 200
        assert "workorders_open{" not in response.text
        assert "http_requests_total" in response.text
