"""What every test module shares: the one "skip here, fail in CI" rule for real components,
the one Docker Engine client, and polling with a deadline instead of fixed sleeps.

Integration tests need real tools and services (Docker Engine, scanners, Prometheus, ...).
On a laptop without them they skip; under ``SHIPRAIL_REQUIRE_INTEGRATION=1`` (``make test``
and CI) a missing component fails the test, so an integration test never silently
disappears. Import the helpers as ``from conftest import require_tools, unavailable``;
ask for the ``docker_client`` fixture to talk to Docker Engine.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, NoReturn

import pytest

from shiprail import _subprocess
from shiprail.settings import get_settings

if TYPE_CHECKING:
    from shiprail._docker import DockerClient


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


@pytest.fixture(scope="session")
def docker_client() -> DockerClient:
    """The Docker Engine shiprail finds (DOCKER_HOST or the local socket), or ``unavailable``."""
    from shiprail._docker import docker_client as connect
    from shiprail.errors import ToolMissing

    try:
        return connect()
    except ToolMissing as exc:
        unavailable(f"Docker Engine is not available: {exc}")


def wait_until(
    predicate: Callable[[], bool], timeout: float, *, what: str, interval: float = 0.1
) -> None:
    """Poll ``predicate`` until it holds; fail the test naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not reached within {timeout:.0f}s")
        time.sleep(interval)
