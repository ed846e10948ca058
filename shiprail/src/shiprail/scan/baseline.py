"""Baselines (hold the line): record today's findings, block only on new ones.

The file is JSON keyed by fingerprint; line numbers are kept for humans only, so a finding
still matches after lines above it move.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from shiprail.errors import ConfigError

VERSION = 1


def write(path: Path, entries: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"version": VERSION, "tool": "shiprail scan", "findings": entries}
    path.write_text(json.dumps(body, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def read(path: Path) -> set[str]:
    """Fingerprints recorded in a baseline file."""
    if not path.is_file():
        raise ConfigError(
            "baseline file not found", path=str(path), hint="write one with --write-baseline"
        )
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"invalid JSON: {exc.msg}", path=str(path), line=exc.lineno) from None
    except UnicodeDecodeError:
        raise ConfigError("invalid JSON: not UTF-8 text", path=str(path)) from None
    except (ValueError, RecursionError) as exc:  # an integer of thousands of digits, deep nesting
        problem = "nested too deeply" if isinstance(exc, RecursionError) else str(exc).split(";")[0]
        raise ConfigError(f"invalid JSON: {problem}", path=str(path)) from None
    except OSError as exc:
        raise ConfigError(f"cannot read the file: {exc.strerror}", path=str(path)) from None
    if not isinstance(data, dict) or not isinstance(data.get("findings"), list):
        raise ConfigError("not a shiprail baseline (no 'findings' list)", path=str(path))
    out = set()
    for entry in data["findings"]:
        if isinstance(entry, dict) and isinstance(entry.get("fingerprint"), str):
            out.add(entry["fingerprint"])
    return out
