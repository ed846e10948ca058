"""A bare FastAPI app with the same /health handler as workorders, without our middleware.

``make bench`` serves both and reports the ratio, which is the cost of request ids, logs,
metrics, tracing, security headers and the body limit. The handler is the same ``async def``
as the service's (no thread pool hop in either), so the ratio measures the middleware only.
"""

from fastapi import FastAPI


def create_app() -> FastAPI:
    app = FastAPI()

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
