"""The Typer application every command module registers on, and the helpers they share.

Kept apart from ``shiprail.cli`` so command modules can import it without a cycle.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

import typer

from shiprail import __version__
from shiprail.errors import ShiprailError

app = typer.Typer(
    name="shiprail",
    help="Take a Python web service from commit to production, securely.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals may hold secrets
    add_completion=False,
)
T = TypeVar("T")


def report(func: Callable[[], T]) -> T:
    """Run a command body, turning ShiprailError into its message and exit code."""
    try:
        return func()
    except ShiprailError as exc:
        typer.echo(f"shiprail: error: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from None


def _version(value: bool) -> None:
    if value:
        typer.echo(f"shiprail {__version__}")
        raise typer.Exit(0)


@app.callback()
def main_callback(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """shiprail: security gates, hermetic builds, safe releases and monitoring in one engine."""
