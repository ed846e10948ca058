"""The one writer of what shiprail prints (ARCHITECTURE.md, "Contracts").

Human output (progress lines, tables, errors) goes to stderr; machine output (``--json``,
an image reference, a rendered manifest) goes to stdout, so ``shiprail ... --json | jq``
always sees clean JSON. Every module prints through these functions, never with ``print``,
``typer.echo`` or a Rich console of its own, so the streams cannot be mixed up again.

Streams are looked up at call time (not bound at import) so test runners that swap
``sys.stdout``/``sys.stderr`` capture everything.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any

#: Width of human tables: wide enough for image digests and install hints on one row.
TABLE_WIDTH = 160

#: What long-running steps take to report progress: one human line at a time.
Say = Callable[[str], None]


def say(message: str, *, prefix: str = "shiprail") -> None:
    """One human line on stderr, prefixed with the speaker (``shiprail``, ``build``, ...)."""
    print(f"{prefix}: {message}" if prefix else message, file=sys.stderr, flush=True)


def sayer(prefix: str) -> Say:
    """A ``say`` bound to a prefix, for engines that take a progress callback."""
    return lambda message: say(message, prefix=prefix)


def error(message: str) -> None:
    """The one-line error every failed command ends with."""
    say(f"error: {message}")


def emit(text: str) -> None:
    """Machine output on stdout (a reference, a manifest, a report)."""
    write(text + "\n")


def emit_json(data: Any) -> None:
    """``--json`` output on stdout: indented, keys in the order the result defines them."""
    emit(json.dumps(data, indent=2, default=str))


def write(text: str, *, human: bool = False) -> None:
    """Text written as it is (a rendered report): stdout, or stderr when ``human``."""
    stream = sys.stderr if human else sys.stdout
    try:
        stream.write(text)
        stream.flush()
    except BrokenPipeError:
        _reader_gone()


def _reader_gone() -> None:
    """The reader of a pipe stopped early (``shiprail status --json | head``): that is its
    choice, not an error. Point stdout at /dev/null so nothing else fails on it."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def table(
    title: str | None,
    columns: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    width: int = TABLE_WIDTH,
) -> None:
    """A human table on stderr (Rich markup allowed in cells)."""
    from rich.console import Console
    from rich.table import Table

    grid = Table(title=title)
    for column in columns:
        grid.add_column(column)
    for row in rows:
        grid.add_row(*row)
    Console(file=sys.stderr, width=width).print(grid)
