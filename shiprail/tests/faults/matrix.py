"""The fault matrix as a report: ``reports/faults/matrix.json`` (one record per cell, merged
across runs so the fixed subset and the full matrix update the same table) and
``reports/faults/matrix.md`` (a row per fault, a column per step; each cell pass or fail, its
failed requests and its recovery time)."""

from __future__ import annotations

import fcntl
import json
import threading
from datetime import UTC, datetime
from pathlib import Path

from shiprail.deploy.checkpoints import Step

from .harness import CellResult

REPORT_DIR = Path(__file__).resolve().parents[3] / "reports" / "faults"
FAULT_ORDER = (
    "sigkill",
    "docker-restart",
    "postgres-stopped",
    "sqlite-readonly",
    "disk-full",
    "edge-killed",
    "concurrent",
)
COMMANDS = ("deploy", "rollback", "prune")
_lock = threading.Lock()


def _cell_text(cell: dict[str, object] | None) -> str:
    if cell is None:
        return "·"
    problems = [str(p) for p in cell.get("problems") or []]  # type: ignore[attr-defined]
    if problems and problems[0].startswith("harness error"):
        return "error"  # the machine or the harness failed, not the engine: see the list
    mark = "pass" if cell["result"] == "pass" else "**FAIL**"
    seconds = cell.get("recovery_seconds")
    timing = f"{seconds:.0f}s" if isinstance(seconds, int | float) else "-"
    return f"{mark} {cell['failed_requests']}/{cell['requests']} {timing}"


def _key(cell: dict[str, object]) -> str:
    return f"{cell.get('command', 'deploy')}:{cell['fault']}/{cell['step']}"


def render(cells: dict[str, dict[str, object]]) -> str:
    steps = [s.value for s in Step]
    lines = [
        "# Fault matrix",
        "",
        "Each cell: result, failed/total requests through the edge during the cell, and the",
        "recovery time (fault injected → the operator's next command done). `·`: not run;",
        "`error`: the cell could not run (see the list below).",
        "",
        "| fault | " + " | ".join(steps) + " |",
        "|---|" + "---|" * len(steps),
    ]
    for command in COMMANDS:
        for fault in FAULT_ORDER:
            if not any(_key(c) == f"{command}:{fault}/{c['step']}" for c in cells.values()):
                continue
            row = [_cell_text(cells.get(f"{command}:{fault}/{step}")) for step in steps]
            label = fault if command == "deploy" else f"{fault} ({command})"
            lines.append(f"| {label} | " + " | ".join(row) + " |")
    failed = [c for c in cells.values() if c["result"] != "pass"]
    if failed:
        lines += ["", "## Failed cells", ""]
        for cell in failed:
            problems = "; ".join(str(p) for p in cell["problems"])  # type: ignore[attr-defined]
            lines.append(f"- {_key(cell)}: {problems}")
    return "\n".join(lines) + "\n"


def record(result: CellResult, directory: Path = REPORT_DIR) -> None:
    """Add (or replace) one cell in the JSON report and rewrite the Markdown table."""
    directory.mkdir(parents=True, exist_ok=True)
    with _lock, (directory / ".lock").open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # two sessions may share the report
        path = directory / "matrix.json"
        cells: dict[str, dict[str, object]] = {}
        if path.exists():
            cells = {_key(c): c for c in json.loads(path.read_text())}
        entry = result.as_json()
        entry["at"] = datetime.now(UTC).isoformat(timespec="seconds")
        cells[_key(entry)] = entry
        ordered = sorted(cells.values(), key=_key)
        path.write_text(json.dumps(ordered, indent=2) + "\n")
        (directory / "matrix.md").write_text(render(cells))
