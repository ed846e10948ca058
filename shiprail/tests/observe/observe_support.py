"""What the monitoring tests share: the repository root and its ``monitoring/`` folder.

The skip-or-fail rule for real tools lives in ``tests/conftest.py`` for every test module.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
MONITORING = ROOT / "monitoring"
