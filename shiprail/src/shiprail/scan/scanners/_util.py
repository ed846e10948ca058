"""Small helpers shared by the scanner modules."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from shiprail.errors import ToolCrashed

#: Files per tool invocation, far below any command-line length limit.
CHUNK = 400


def chunks(files: list[Path], size: int = CHUNK) -> Iterator[list[str]]:
    names = [f.as_posix() for f in files]
    for start in range(0, len(names), size):
        yield names[start : start + size]


def load_json(tool: str, text: str) -> Any:
    """Parse a tool's JSON output, turning garbage into ToolCrashed (exit 3)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        head = text.strip().splitlines()[:2]
        raise ToolCrashed(
            f"'{tool}' did not produce JSON ({exc.msg}): {' / '.join(head) or 'empty output'}"
        ) from None


def rel(root: Path, path: str) -> str:
    """A tool's path made repo-relative with forward slashes."""
    p = Path(path)
    if p.is_absolute():
        try:
            p = p.resolve().relative_to(root.resolve())
        except ValueError:
            return p.as_posix()
    return p.as_posix().removeprefix("./")


def first_line(root: Path, path: Path) -> str:
    try:
        with (root / path).open("rb") as handle:
            return handle.readline(200).decode("utf-8", errors="replace")
    except OSError:
        return ""
