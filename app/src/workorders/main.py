"""The app factory: ``uvicorn --factory workorders.main:create_app``.

Nothing is created at import time; every app owns its engine, metrics and settings, so tests
can run several apps (SQLite and PostgreSQL) in one process.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import Depends, FastAPI
from sqlalchemy.exc import OperationalError
from starlette.requests import Request
from starlette.responses import JSONResponse

from workorders import __version__, faults, queries
from workorders.api import ops, workorders
from workorders.business_metrics import OpenWorkOrdersCollector
from workorders.db import make_engine, make_session_factory
from workorders.errors import error_response, install_error_handlers
from workorders.middleware import BodyLimitMiddleware, SecurityHeadersMiddleware
from workorders.observability import Metrics, RequestContextMiddleware, configure_logging
from workorders.schemas import MAX_PAGE_LIMIT
from workorders.settings import Settings, load_settings
from workorders.tracing import TracingMiddleware, make_tracer_provider
from workorders.workers import multiprocess_directory

DESCRIPTION = f"""
Property-maintenance work orders.

* **Reads** (`GET`) need no token. **Writes** need `Authorization: Bearer <token>`; the
  service stores only SHA-256 hashes of valid tokens (`WORKORDERS_API_TOKEN_HASHES`).
* `PATCH` needs `If-Match` with the `ETag` from `GET` (stale: 412, missing: 428).
* Lists return at most {MAX_PAGE_LIMIT} items per page; follow `next_cursor`.
* Request bodies over the configured limit (64 KiB by default) are refused with 413.
* Errors always have the body `{{"error": {{"code", "message", "details", "request_id"}}}}`.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the service; settings come from the environment unless given."""
    settings = settings or load_settings()
    configure_logging(settings.log_level)
    engine = make_engine(settings.database_url)
    tracer_provider = make_tracer_provider(
        service_name="workorders",
        service_version=settings.version,
        environment=settings.env,
        otlp_endpoint=settings.otlp_endpoint,
    )
    dev = settings.env == "dev"

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.database_limiter = anyio.CapacityLimiter(queries.DATABASE_THREADS)
        yield
        tracer_provider.shutdown()
        engine.dispose()

    app = FastAPI(
        title="workorders",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        # The service traces, counts and logs each request itself (tracing.py,
        # observability.py). FastAPI's own telemetry would do the same a second time as soon
        # as a global OpenTelemetry provider appeared, and until then it still asks the
        # OpenTelemetry globals (environment lookups) on every request to find that out.
        telemetry={"tracing": False, "metrics": False, "logs": False},
        # Fault injection exists only in dev (drills); see workorders.faults.
        dependencies=[Depends(faults.inject)] if dev else None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    app.state.write_lock = queries.write_lock(engine)
    app.state.metrics = Metrics()
    app.state.metrics.registry.register(OpenWorkOrdersCollector(app.state.session_factory))
    app.state.tracer_provider = tracer_provider
    app.state.faults = faults.FaultState(multiprocess_directory())

    install_error_handlers(app)

    @app.exception_handler(OperationalError)
    async def _database_down(request: Request, _: OperationalError) -> JSONResponse:
        return error_response(
            request, 503, "database_unavailable", "the database is unavailable; retry later"
        )

    app.include_router(ops.router)
    app.include_router(workorders.router)
    if dev:
        app.include_router(faults.router)
    # Added last = outermost: the request id exists before anything else runs.
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(RequestContextMiddleware, metrics=app.state.metrics)
    app.add_middleware(TracingMiddleware, provider=tracer_provider)  # outermost: logs in span
    return app
