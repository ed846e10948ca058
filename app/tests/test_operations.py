"""Health, readiness, metrics, version, security headers, request ids and access logs."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from workorders.main import create_app

from conftest import AUTH, make_settings, new_order


def test_health_and_version(client):
    assert client.get("/health").json() == {"status": "ok"}
    version = client.get("/version").json()
    assert set(version) == {"version", "git_sha", "build_time", "env"}
    assert version["env"] == "dev"


def test_ready_reports_the_database(client):
    response = client.get("/ready")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


def test_ready_is_503_and_health_200_when_the_database_is_gone(tmp_path):
    url = f"sqlite:///{tmp_path / 'missing-dir' / 'db.sqlite'}"
    with TestClient(create_app(make_settings(url))) as client:
        assert client.get("/health").status_code == 200
        ready = client.get("/ready")
        assert ready.status_code == 503
        assert ready.json()["database"] == "unreachable"
        listing = client.get("/api/v1/workorders")
        assert listing.status_code == 503
        assert listing.json()["error"]["code"] == "database_unavailable"


def test_metrics_use_route_templates_never_raw_paths(client):
    order = new_order(client, category="electrical")
    client.get(f"/api/v1/workorders/{order['id']}")
    client.get("/no/such/path/12345")
    text = client.get("/metrics").text
    assert (
        'http_requests_total{method="GET",route="/api/v1/workorders/{workorder_id}",status="200"}'
        in text
    )
    assert 'http_requests_total{method="POST",route="/api/v1/workorders",status="201"}' in text
    assert 'route="unmatched",status="404"' in text
    assert order["id"] not in text
    assert "12345" not in text
    assert 'http_request_duration_seconds_bucket{le="0.005",method="GET"' in text
    assert 'workorders_created_total{category="electrical"} 1.0' in text
    assert "process_resident_memory_bytes" in text
    assert "process_cpu_seconds_total" in text


def test_security_headers_on_every_response(client):
    for response in (
        client.get("/health"),
        client.get("/api/v1/workorders/not-a-uuid"),
        client.post("/api/v1/workorders", json={}),
    ):
        headers = response.headers
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "no-referrer"
        assert "default-src 'none'" in headers["content-security-policy"]
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert "strict-transport-security" not in headers
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "cdn.jsdelivr.net" in docs.headers["content-security-policy"]


def test_hsts_only_over_tls(app):
    with TestClient(app, base_url="https://testserver") as tls_client:
        response = tls_client.get("/health")
    assert response.headers["strict-transport-security"].startswith("max-age=")


def test_request_id_is_kept_or_generated(client):
    kept = client.get("/health", headers={"X-Request-ID": "abc-123.def_4"})
    assert kept.headers["x-request-id"] == "abc-123.def_4"
    generated = client.get("/health")
    assert len(generated.headers["x-request-id"]) == 32
    unsafe = client.get("/health", headers={"X-Request-ID": "bad id\twith spaces"})
    assert unsafe.headers["x-request-id"] != "bad id\twith spaces"
    error = client.get("/api/v1/workorders/nope", headers={"X-Request-ID": "trace-me"})
    assert error.json()["error"]["request_id"] == "trace-me"


def test_one_json_log_line_per_request_without_bodies_or_tokens(database_url, capsys):
    with TestClient(create_app(make_settings(database_url))) as client:
        capsys.readouterr()
        client.post(
            "/api/v1/workorders",
            json={"property_ref": "P", "category": "hvac", "title": "secret-title-text"},
            headers={**AUTH, "X-Request-ID": "log-check-1"},
        )
        lines = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert record["request_id"] == "log-check-1"
    assert record["method"] == "POST"
    assert record["route"] == "/api/v1/workorders"
    assert record["status"] == 201
    assert record["duration_ms"] >= 0
    assert "secret-title-text" not in lines[0]
    assert AUTH["Authorization"].split()[1] not in lines[0]


def test_unexpected_errors_are_500_json_without_details(database_url):
    app = create_app(make_settings(database_url))

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("password=hunter2 in a message")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    assert "hunter2" not in response.text


def test_unknown_route_and_method_get_json_errors(client):
    missing = client.get("/nope")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    wrong = client.delete("/api/v1/workorders")
    assert wrong.status_code == 405
    assert wrong.json()["error"]["code"] == "method_not_allowed"
