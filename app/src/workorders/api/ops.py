"""Operational endpoints: liveness, readiness, metrics and version."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from workorders.api.deps import MetricsDep, SettingsDep
from workorders.db import database_is_reachable

router = APIRouter(tags=["operations"])


@router.get("/health", summary="Liveness: the process answers (touches nothing else)")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/ready",
    summary="Readiness: the database answers",
    responses={503: {"description": "The database cannot be reached"}},
)
def ready(request: Request) -> JSONResponse:
    if database_is_reachable(request.app.state.engine):
        return JSONResponse({"status": "ready", "database": "ok"})
    return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)


@router.get("/metrics", include_in_schema=False)
def metrics(metrics: MetricsDep) -> Response:
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)


@router.get("/version", summary="Version, git sha and build time of this release")
async def version(settings: SettingsDep) -> dict[str, str]:
    return {
        "version": settings.version,
        "git_sha": settings.git_sha,
        "build_time": settings.build_time,
        "env": settings.env,
    }
