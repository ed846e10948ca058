"""Helpers for the monitoring tests: the repository root and the real-tool requirement.

Tests that need promtool/amtool/Prometheus/Alertmanager skip on a laptop without them but
fail when ``SHIPRAIL_REQUIRE_INTEGRATION=1`` (CI), so they never silently disappear.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from shiprail._subprocess import which

ROOT = Path(__file__).resolve().parents[3]
MONITORING = ROOT / "monitoring"


def require_tools(*names: str) -> None:
    missing = [name for name in names if which(name) is None]
    if not missing:
        return
    message = (
        f"{', '.join(missing)} not installed (scripts/install-tools.sh prometheus alertmanager)"
    )
    if os.environ.get("SHIPRAIL_REQUIRE_INTEGRATION") == "1":
        pytest.fail(f"{message}, and SHIPRAIL_REQUIRE_INTEGRATION=1 forbids skipping")
    pytest.skip(message)
