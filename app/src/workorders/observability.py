"""Request context for every HTTP request: request id, one JSON log line, RED metrics.

One pure-ASGI middleware does all three so a request is timed once and labelled once.
Metrics are labelled by the route *template* (``/api/v1/workorders/{workorder_id}``), never
by the raw path, so label cardinality stays bounded whatever clients send.

Everything that does not depend on the request is prepared once, outside the hot path: the
metric children for each (method, route, status) are resolved on first use and kept, the log
record skips the caller lookup (the access line's location is always this module), and the
formatter renders each second's timestamp once.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import threading
import time
from random import getrandbits
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from workorders.tracing import current_trace_ids
from workorders.workers import multiprocess_directory, process_collector

REQUEST_ID_HEADER = "x-request-id"
_REQUEST_ID_HEADER_BYTES = REQUEST_ID_HEADER.encode()
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._\-]{1,128}$")
UNMATCHED_ROUTE = "unmatched"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """The service's Prometheus metrics and the registry ``/metrics`` reads (one per app).

    With several workers (``PROMETHEUS_MULTIPROC_DIR`` set by ``workorders serve``) every
    worker writes its samples to that directory and the registry aggregates all of them, so a
    scrape sees the whole service whichever worker answers it.
    """

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        directory = multiprocess_directory()
        # In multiprocess mode the metric objects only write samples; the registry reads the
        # directory (registering them too would show this worker's samples twice).
        own = None if directory else self.registry
        self.requests = Counter(
            "http_requests_total",
            "HTTP requests by method, route template and status code.",
            ["method", "route", "status"],
            registry=own,
        )
        self.duration = Histogram(
            "http_request_duration_seconds",
            "HTTP request duration by method and route template.",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=own,
        )
        self.created = Counter(
            "workorders_created_total",
            "Work orders created, by category.",
            ["category"],
            registry=own,
        )
        if directory:
            from prometheus_client import multiprocess

            multiprocess.MultiProcessCollector(self.registry, path=directory)
        self.registry.register(process_collector(directory))
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count and time one request; label lookups happen once per label combination."""
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            children = (
                self.requests.labels(method, route, str(status)),
                self.duration.labels(method, route),
            )
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)


#: ``json.dumps(payload, default=str)`` made once: the same text, without building an encoder
#: per line; payloads are flat, so the circular-reference bookkeeping is skipped.
_ENCODER = json.JSONEncoder(default=str, check_circular=False)


class JsonFormatter(logging.Formatter):
    """One JSON object per line; extra fields passed with ``extra={...}`` are kept."""

    _standard = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message"}

    def __init__(self) -> None:
        super().__init__()
        self._second = -1
        self._stamp = ""

    def _timestamp(self, record: logging.LogRecord) -> str:
        return self._stamp_of(record.created, record.msecs)

    def _stamp_of(self, created: float, msecs: float) -> str:
        second = int(created)
        if second != self._second:  # strftime once a second, not once a line
            self._stamp = time.strftime("%Y-%m-%dT%H:%M:%S", self.converter(created))
            self._second = second
        return f"{self._stamp}.{int(msecs):03d}Z"

    def format(self, record: logging.LogRecord) -> str:
        if type(record) is AccessRecord:
            return self._access_line(record)
        payload: dict[str, Any] = {
            "ts": self._timestamp(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        standard = self._standard
        for key, value in record.__dict__.items():
            if key not in standard and key[0] != "_":
                payload[key] = value
        if ids := current_trace_ids():
            payload["trace_id"], payload["span_id"] = ids
        if record.exc_info and record.exc_info[0] is not None:
            payload["exception"] = record.exc_info[0].__name__
        return _ENCODER.encode(payload)

    def _access_line(self, record: logging.LogRecord) -> str:
        values = record.__dict__
        return self.access_line(
            record.created, record.msecs, *(values[field] for field in ACCESS_FIELDS)
        )

    def access_line(
        self,
        created: float,
        msecs: float,
        request_id: str,
        method: str,
        route: str,
        status: int,
        duration_ms: float,
    ) -> str:
        """The line ``format`` would write for an access record made at ``created`` (same
        keys, order and spacing), filled into a template: its fields and their types are
        always the same."""
        line = _ACCESS_TEMPLATE % (
            self._stamp_of(created, msecs),
            _quote(request_id),
            _quote(method),
            _quote(route),
            status,
            float.__repr__(duration_ms),
        )
        if ids := current_trace_ids():
            return f'{line}, "trace_id": "{ids[0]}", "span_id": "{ids[1]}"}}'
        return line + "}"


_quote = json.encoder.encode_basestring_ascii
_ACCESS_TEMPLATE = (
    '{"ts": "%s", "level": "info", "logger": "workorders.access", "message": "request", '
    '"request_id": %s, "method": %s, "route": %s, "status": %d, "duration_ms": %s'
)


class JsonLinesHandler(logging.StreamHandler):
    """The service's stdout handler: a ``StreamHandler`` with a ``JsonFormatter`` that can
    also take a finished access line, so the one line every request writes skips building a
    ``LogRecord`` and the handler chain (see :func:`log_access`)."""

    formatter: JsonFormatter

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        formatter = JsonFormatter()
        formatter.converter = time.gmtime  # timestamps in UTC, as the trailing "Z" says
        self.setFormatter(formatter)

    def write_access(self, fields: tuple[str, str, str, int, float]) -> None:
        """Write the access line ``emit`` would write for ``AccessRecord(fields)``."""
        created = time.time()
        line = self.formatter.access_line(created, (created - int(created)) * 1000, *fields)
        with self.lock:  # type: ignore[union-attr]  # the lock ``emit`` takes: lines never interleave
            stream = self.stream
            stream.write(line + self.terminator)
            stream.flush()


def configure_logging(level: str) -> None:
    """Send JSON lines to stdout (containers collect stdout)."""
    root = logging.getLogger("workorders")
    root.handlers[:] = [JsonLinesHandler(sys.stdout)]
    root.setLevel(level.upper())
    root.propagate = False


access_log = logging.getLogger("workorders.access")
_service_log = logging.getLogger("workorders")
#: The access line's fields after the standard ones, in this order.
ACCESS_FIELDS = ("request_id", "method", "route", "status", "duration_ms")


class AccessRecord(logging.LogRecord):
    """The access line's log record, with everything that never changes computed once.

    ``LogRecord.__init__`` derives the file and module names from the path, looks up the
    thread, process and task names, and more, for every line; for the access line all of that
    is the same every time. The attributes are the standard ones, so any handler or formatter
    still works with it.
    """

    _constant: dict[str, Any] = {}

    def __init__(self, fields: tuple[str, str, str, int, float]) -> None:
        if not self._constant:
            model = logging.LogRecord(
                access_log.name, logging.INFO, __file__, 0, "request", (), None
            )
            model.funcName = "log_access"
            variable = {"created", "msecs", "relativeCreated", "thread", "threadName", "process"}
            type(self)._constant = {k: v for k, v in vars(model).items() if k not in variable}
        created = time.time()
        values = self.__dict__
        values.update(self._constant)
        values["created"] = created
        values["msecs"] = int((created - int(created)) * 1000) + 0.0
        values["relativeCreated"] = (created - _LOGGING_STARTED) * 1000
        values["thread"] = threading.get_ident()
        values["threadName"] = threading.current_thread().name
        values["process"] = os.getpid()
        values.update(zip(ACCESS_FIELDS, fields, strict=True))


_LOGGING_STARTED: float = logging._startTime  # type: ignore[attr-defined]


def _direct_handler() -> JsonLinesHandler | None:
    """The handler an access line would reach, when it is the only thing the logging chain
    would do with it: ``configure_logging``'s handler, nothing added or filtered since."""
    handlers = _service_log.handlers
    if access_log.handlers or access_log.filters or len(handlers) != 1:
        return None
    handler = handlers[0]
    if type(handler) is not JsonLinesHandler or handler.filters:
        return None
    return handler if handler.level <= logging.INFO else None


def log_access(request_id: str, method: str, route: str, status: int, seconds: float) -> None:
    """Write one access line: straight to the service's handler when nothing else would see
    it (a few microseconds less per request), else through the ``workorders.access`` logger
    like any record, so added handlers and filters still get it."""
    if not access_log.isEnabledFor(logging.INFO):
        return
    fields = (request_id, method, route, status, round(seconds * 1000, 2))
    handler = _direct_handler()
    if handler is not None:
        handler.write_access(fields)
    else:
        access_log.handle(AccessRecord(fields))


def _request_id(scope: Scope) -> str:
    for key, value in scope["headers"]:
        if key == _REQUEST_ID_HEADER_BYTES:
            offered = value.decode("latin-1")
            if _SAFE_REQUEST_ID.match(offered):
                return offered
            break
    # 128 random bits as 32 hex digits, like ``uuid4().hex`` but without the syscall and
    # the UUID object; ``random`` reseeds in forked children, so workers never share ids.
    return f"{getrandbits(128):032x}"


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    return getattr(route, "path", None) or UNMATCHED_ROUTE


class RequestContextMiddleware:
    """Assigns the request id, logs one line and records metrics for every HTTP request."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        id_header = (_REQUEST_ID_HEADER_BYTES, request_id.encode())
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), id_header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_template(scope)
            method = scope["method"]
            self.metrics.observe_request(method, route, status, elapsed)
            log_access(request_id, method, route, status, elapsed)
