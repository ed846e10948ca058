"""Fixtures of the per-scanner tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from ._support import FakeTool


@pytest.fixture
def fake_tool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeTool:
    """A private tool directory, first in the lookup, for tools that replay output."""
    return FakeTool(tmp_path / "fake-bin", monkeypatch)
