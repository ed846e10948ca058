"""What every test module shares: the one "skip here, fail in CI" rule for real components.

Integration tests need real tools and services (Docker Engine, scanners, Prometheus, ...).
On a laptop without them they skip; under ``SHIPRAIL_REQUIRE_INTEGRATION=1`` (``make test``
and CI) a missing component fails the test, so an integration test never silently
disappears. Import the helpers as ``from conftest import require_tools, unavailable``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import NoReturn

import pytest

from shiprail import _subprocess
from shiprail.settings import get_settings


def integration_required() -> bool:
    """True in ``make test`` and CI, where a missing real component is a failure."""
    return os.environ.get("SHIPRAIL_REQUIRE_INTEGRATION") == "1"


def unavailable(message: str) -> NoReturn:
    """Skip the test (laptop) or fail it (CI) because a real component is missing."""
    if integration_required():
        pytest.fail(f"{message}, and SHIPRAIL_REQUIRE_INTEGRATION=1 forbids skipping")
    pytest.skip(message)


def require_tools(*names: str) -> None:
    """Every named executable must be found the way shiprail finds it, or ``unavailable``."""
    missing = [name for name in names if _subprocess.which(name) is None]
    if missing:
        unavailable(f"not installed: {', '.join(missing)} (make tools)")


@pytest.fixture(autouse=True)
def _fresh_settings() -> Iterator[None]:
    """Each test reads the environment afresh (``get_settings`` caches per process), so a
    ``monkeypatch.setenv`` applies to its own test only."""
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
