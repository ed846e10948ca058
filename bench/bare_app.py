"""A bare FastAPI app with the same /health handler as workorders, without our middleware.

``make bench`` serves both and reports the ratio, which is the cost of request ids, logs,
metrics, security headers and the body limit.
"""

from fastapi import FastAPI


def create_app() -> FastAPI:
    app = FastAPI()

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
