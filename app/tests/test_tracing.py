"""Tracing: spans per request, W3C trace context honoured, trace ids in the JSON logs, and
real OTLP/HTTP export to a collector (a local HTTP server decoding the protobuf)."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from workorders.main import create_app
from workorders.observability import JsonFormatter
from workorders.settings import Settings
from workorders.tracing import current_trace_ids, make_tracer_provider, traces_url

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
TRACEPARENT = f"00-{TRACE_ID}-b7ad6b7169203331-01"


def _settings(tmp_path: Path, **extra: object) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path / 'wo.db'}", **extra)  # type: ignore[arg-type]


def _migrated(tmp_path: Path, **extra: object) -> Settings:
    from workorders import migrate

    settings = _settings(tmp_path, **extra)
    migrate.upgrade(settings.database_url)
    return settings


def test_traces_url_appends_the_otlp_path_once() -> None:
    assert traces_url("http://collector:4318") == "http://collector:4318/v1/traces"
    assert traces_url("http://collector:4318/") == "http://collector:4318/v1/traces"
    assert traces_url("http://c:4318/v1/traces") == "http://c:4318/v1/traces"


def test_export_is_off_by_default() -> None:
    assert Settings().otlp_endpoint is None
    provider = make_tracer_provider(
        service_name="workorders", service_version="1", environment="dev", otlp_endpoint=None
    )
    # No span processor: nothing leaves the process.
    assert provider._active_span_processor._span_processors == ()


def test_no_trace_ids_outside_a_request() -> None:
    assert current_trace_ids() is None


def test_request_span_continues_the_callers_trace_and_names_the_route(tmp_path: Path) -> None:
    exporter = InMemorySpanExporter()
    app = create_app(_migrated(tmp_path))
    provider = make_tracer_provider(
        service_name="workorders",
        service_version="1",
        environment="dev",
        otlp_endpoint=None,
        exporter=exporter,
    )
    # Swap the provider the outermost middleware uses for one with an in-memory exporter.
    app.user_middleware[0].kwargs["provider"] = provider
    with TestClient(app) as client:
        response = client.get("/api/v1/workorders", headers={"traceparent": TRACEPARENT})
        assert response.status_code == 200
        client.get("/api/v1/workorders/00000000-0000-0000-0000-000000000000")
    provider.force_flush()
    spans = exporter.get_finished_spans()
    first, second = spans[0], spans[1]
    assert format(first.context.trace_id, "032x") == TRACE_ID
    assert first.name == "GET /api/v1/workorders"
    assert first.attributes["http.route"] == "/api/v1/workorders"
    assert first.attributes["http.response.status_code"] == 200
    assert first.resource.attributes["service.name"] == "workorders"
    assert format(second.context.trace_id, "032x") != TRACE_ID  # a new trace
    assert second.attributes["http.response.status_code"] == 404


def test_access_log_lines_carry_the_trace_id(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = create_app(_migrated(tmp_path))
    with TestClient(app) as client:
        client.get("/health", headers={"traceparent": TRACEPARENT})
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    access = [line for line in lines if line.get("logger") == "workorders.access"]
    assert access, lines
    assert access[-1]["trace_id"] == TRACE_ID
    assert len(access[-1]["span_id"]) == 16


def test_formatter_leaves_trace_fields_out_without_a_span() -> None:
    record = logging.LogRecord("workorders.x", logging.INFO, __file__, 1, "hello", (), None)
    payload = json.loads(JsonFormatter().format(record))
    assert "trace_id" not in payload and payload["message"] == "hello"


class _Collector(BaseHTTPRequestHandler):
    received: list[ExportTraceServiceRequest] = []
    paths: list[str] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        type(self).received.append(request)
        type(self).paths.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_: object) -> None:
        return


@pytest.fixture
def collector() -> Iterator[str]:
    _Collector.received = []
    _Collector.paths = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_spans_are_exported_over_otlp_http_when_an_endpoint_is_set(
    tmp_path: Path, collector: str
) -> None:
    app = create_app(_migrated(tmp_path, otlp_endpoint=collector, env="dev"))
    with TestClient(app) as client:
        client.get("/api/v1/workorders", headers={"traceparent": TRACEPARENT})
        app.state.tracer_provider.force_flush()
    assert _Collector.paths and _Collector.paths[0] == "/v1/traces"
    spans = [
        span
        for request in _Collector.received
        for resource_spans in request.resource_spans
        for scope_spans in resource_spans.scope_spans
        for span in scope_spans.spans
    ]
    names = {span.name for span in spans}
    assert "GET /api/v1/workorders" in names
    assert any(span.trace_id.hex() == TRACE_ID for span in spans)
    resource = _Collector.received[0].resource_spans[0].resource
    attributes = {a.key: a.value.string_value for a in resource.attributes}
    assert attributes["service.name"] == "workorders"
    assert attributes["deployment.environment"] == "dev"
