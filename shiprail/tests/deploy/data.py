"""Third-party data the tests read (Traefik schemas): from the data cache made by
``scripts/fetch-data.sh`` (``make tools``), or ``SHIPRAIL_DATA_MIRROR`` as a fallback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from shiprail.paths import repo_root


def schema_path(name: str) -> Path:
    candidates = [repo_root() / ".cache" / "data" / "schemas" / name]
    if mirror := os.environ.get("SHIPRAIL_DATA_MIRROR"):
        candidates.append(Path(mirror) / "schemas" / name)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    pytest.fail(f"schema {name} missing: run scripts/fetch-data.sh (make tools)")
