"""OpenTelemetry tracing: one server span per HTTP request, exported over OTLP/HTTP if asked.

Exporting is off by default (``WORKORDERS_OTLP_ENDPOINT`` unset): spans are still created, or
continued from an incoming W3C ``traceparent`` header, so every JSON log line carries the
``trace_id`` a proxy or client started, and turning export on later needs no code change.
Each app owns its ``TracerProvider`` (no process-global state), like its metrics registry.
"""

from __future__ import annotations

from opentelemetry import context, propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON, ParentBased
from opentelemetry.trace import SpanKind, Status, StatusCode
from starlette.types import ASGIApp, Message, Receive, Scope, Send

OTLP_TRACES_PATH = "/v1/traces"
#: Time limit for one export to the collector, in seconds.
EXPORT_TIMEOUT_SECONDS = 10


def traces_url(endpoint: str) -> str:
    """The OTLP/HTTP traces URL for a collector base URL (``http://collector:4318``)."""
    endpoint = endpoint.rstrip("/")
    return endpoint if endpoint.endswith(OTLP_TRACES_PATH) else endpoint + OTLP_TRACES_PATH


def make_tracer_provider(
    *,
    service_name: str,
    service_version: str,
    environment: str,
    otlp_endpoint: str | None,
    exporter: SpanExporter | None = None,
) -> TracerProvider:
    """A provider that exports to ``otlp_endpoint`` (or ``exporter``), or nowhere when None."""
    resource = Resource.create(
        {
            "service.name": service_name,
            "service.version": service_version,
            "deployment.environment": environment,
        }
    )
    if exporter is None and otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter(
            endpoint=traces_url(otlp_endpoint), timeout=EXPORT_TIMEOUT_SECONDS
        )
    # Without an exporter nothing would ever read a span's attributes: spans are not sampled
    # (not recorded) but still get valid trace and span ids, so the logs keep their trace_id
    # at a fraction of the per-request cost.
    sampler = ParentBased(ALWAYS_ON) if exporter is not None else ALWAYS_OFF
    provider = TracerProvider(resource=resource, sampler=sampler)
    if exporter is not None:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def current_trace_ids() -> tuple[str, str] | None:
    """(trace id, span id) of the active span as lower-case hex, or None outside a span."""
    span_context = trace.get_current_span().get_span_context()
    if not span_context.is_valid:
        return None
    return format(span_context.trace_id, "032x"), format(span_context.span_id, "016x")


def _carrier(scope: Scope) -> dict[str, str]:
    return {
        key.decode("latin-1"): value.decode("latin-1")
        for key, value in scope.get("headers", ())
        if key in (b"traceparent", b"tracestate")
    }


def exports_spans(provider: TracerProvider) -> bool:
    """False for the provider ``make_tracer_provider`` builds without an exporter."""
    return getattr(provider, "sampler", None) is not ALWAYS_OFF


class TracingMiddleware:
    """Wraps each HTTP request in a server span named ``METHOD /route/template``.

    Added outermost so the access log line and error handlers run inside the span. When
    nothing exports, the SDK would make a non-recording span whose only use is its ids (for
    the logs); the middleware makes that span itself, skipping the sampler, the attributes
    and the name that nobody reads, with the same ids: the caller's trace id when a
    ``traceparent`` arrived, a new random one otherwise.
    """

    def __init__(self, app: ASGIApp, provider: TracerProvider) -> None:
        self.app = app
        self.tracer = provider.get_tracer("workorders")
        self.recording = exports_spans(provider)
        self.ids = provider.id_generator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
        elif self.recording:
            await self._recorded(scope, receive, send)
        else:
            await self._ids_only(scope, receive, send)

    async def _ids_only(self, scope: Scope, receive: Receive, send: Send) -> None:
        parent = None
        for key, _ in scope["headers"]:
            if key == b"traceparent":
                parent = trace.get_current_span(propagate.extract(_carrier(scope)))
                break
        parent_context = parent.get_span_context() if parent is not None else None
        if parent_context is not None and parent_context.is_valid:
            trace_id, trace_state = parent_context.trace_id, parent_context.trace_state
        else:
            trace_id, trace_state = self.ids.generate_trace_id(), None
        span = trace.NonRecordingSpan(
            trace.SpanContext(
                trace_id, self.ids.generate_span_id(), is_remote=False, trace_state=trace_state
            )
        )
        token = context.attach(trace.set_span_in_context(span))
        try:
            await self.app(scope, receive, send)
        finally:
            context.detach(token)

    async def _recorded(self, scope: Scope, receive: Receive, send: Send) -> None:
        parent = propagate.extract(_carrier(scope))
        method = scope["method"]
        status = 500
        with self.tracer.start_as_current_span(
            method,
            context=parent,
            kind=SpanKind.SERVER,
            attributes={"http.request.method": method, "url.path": scope["path"]},
            record_exception=True,
        ) as span:

            async def send_with_status(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                await send(message)

            try:
                await self.app(scope, receive, send_with_status)
            finally:
                route = getattr(scope.get("route"), "path", None)
                if route:
                    span.update_name(f"{method} {route}")
                    span.set_attribute("http.route", route)
                span.set_attribute("http.response.status_code", status)
                if status >= 500:
                    span.set_status(Status(StatusCode.ERROR))
