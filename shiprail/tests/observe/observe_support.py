"""What the monitoring tests share: the repository root, ``monitoring/``, and the one
skip-or-fail rule for real tools (from ``tests/conftest.py``, re-exported for the modules
that import it from here)."""

from __future__ import annotations

from pathlib import Path

from conftest import require_tools, unavailable

__all__ = ["MONITORING", "ROOT", "require_tools", "unavailable"]

ROOT = Path(__file__).resolve().parents[3]
MONITORING = ROOT / "monitoring"
