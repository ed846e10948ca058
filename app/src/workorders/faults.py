"""Fault injection for incident drills: errors and slow responses on demand, in dev only.

The ``/debug/faults`` endpoints and the per-request check exist only when
``WORKORDERS_ENV=dev``; stage and prod apps do not have them at all (the router is never
mounted), so no setting can turn them on there. Faults apply to the API (``/api/...``) only,
never to ``/health``, ``/ready`` or ``/metrics``, so monitoring keeps seeing the service.

Errors are spread deterministically (an accumulator, not a coin toss): with
``error_ratio=0.5`` exactly every second request fails, so a drill's numbers are exact.
"""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from workorders.api.deps import WriterDep
from workorders.errors import APIError

FAULT_PREFIX = "/api/"


class FaultSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    error_ratio: float = Field(default=0.0, ge=0.0, le=1.0, description="share of 500 answers")
    delay_seconds: float = Field(default=0.0, ge=0.0, le=30.0, description="added latency")


class FaultState:
    """The active faults of one app; thread-safe (sync handlers run in a thread pool).

    With several workers (``directory``: the multiprocess metrics directory they share) the
    faults are one file there, so a drill that sets or clears them through any worker
    changes them for all: each worker rereads the file when its modification time moves.
    """

    def __init__(self, directory: str | None = None) -> None:
        self._lock = threading.Lock()
        self._settings = FaultSettings()
        self._debt = 0.0
        self._file = Path(directory) / "faults.json" if directory else None
        self._seen: int | None = None

    @property
    def settings(self) -> FaultSettings:
        if self._file is not None:
            self._reload()
        return self._settings

    def _reload(self) -> None:
        assert self._file is not None
        try:
            stamp = self._file.stat().st_mtime_ns
        except FileNotFoundError:
            return
        if stamp == self._seen:
            return
        with self._lock:
            self._settings = FaultSettings.model_validate_json(self._file.read_bytes())
            self._debt = 0.0
            self._seen = stamp

    def set(self, settings: FaultSettings) -> None:
        with self._lock:
            self._settings = settings
            self._debt = 0.0
            if self._file is not None:
                scratch = self._file.with_name(f".faults.{os.getpid()}.json")
                scratch.write_text(settings.model_dump_json())
                os.replace(scratch, self._file)
                self._seen = None  # reread: another worker may write the same instant

    def should_fail(self) -> bool:
        ratio = self.settings.error_ratio
        with self._lock:
            self._debt += ratio
            if self._debt >= 1.0 - 1e-9:
                self._debt -= 1.0
                return True
            return False


async def inject(request: Request) -> None:
    """App-wide dependency: delay and/or fail the request as the active faults say."""
    if not request.url.path.startswith(FAULT_PREFIX):
        return
    state: FaultState = request.app.state.faults
    if state.settings.delay_seconds:
        await asyncio.sleep(state.settings.delay_seconds)
    if state.should_fail():
        raise APIError(500, "injected_fault", "fault injected by /debug/faults (dev only)")


router = APIRouter(prefix="/debug/faults", tags=["debug (dev only)"])


@router.get("", summary="The active faults (dev only)")
def get_faults(request: Request) -> FaultSettings:
    return request.app.state.faults.settings


@router.put(
    "",
    summary="Set the faults: error ratio and added latency (dev only; needs a bearer token)",
    dependencies=[WriterDep],
)
def put_faults(body: FaultSettings, request: Request) -> FaultSettings:
    request.app.state.faults.set(body)
    return body


@router.delete(
    "", summary="Clear every fault (dev only; needs a bearer token)", dependencies=[WriterDep]
)
def delete_faults(request: Request) -> FaultSettings:
    request.app.state.faults.set(FaultSettings())
    return request.app.state.faults.settings
