"""The Typer application every command module registers on, and the one error translator.

Kept apart from ``shiprail.cli`` so command modules can import it without a cycle. Every
command runs its body through ``report``: the only place an outcome becomes an exit code
(``errors.py`` draws the tree). An exception outside the tree is a bug or an untranslated
library error: it ends in one line and exit 3, and ``--debug`` (``SHIPRAIL_DEBUG=1``) adds
the traceback, never with local variables (they may hold secrets).
"""

from __future__ import annotations

import re
import sys
import traceback
from collections.abc import Callable
from typing import Annotated, NoReturn, TypeVar

import click
import typer

from shiprail import __version__, output
from shiprail.errors import EXIT_TOOL, ShiprailError, UsageError

app = typer.Typer(
    name="shiprail",
    help="Take a Python web service from commit to production, securely.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals may hold secrets
    add_completion=False,
)
T = TypeVar("T")
_URL_PASSWORD = re.compile(r"(://[^:/@\s]+:)[^@\s]+@")
#: Line breaks and other control characters a user's input may carry into a message.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")

#: The one ``--json`` option every command that has machine output takes.
JsonOption = Annotated[
    bool,
    typer.Option("--json", envvar="SHIPRAIL_JSON", help="Machine-readable output on stdout."),
]


class _Options:
    """Global options set by the callback before any command body runs."""

    debug = False


def report(func: Callable[[], T]) -> T:
    """Run a command body and translate every way it can end into an exit code."""
    try:
        return func()
    except (typer.Exit, typer.Abort, click.exceptions.Exit, click.ClickException, click.Abort):
        raise
    except UsageError as exc:
        _fail(_usage_message(exc), exc.exit_code, exc)
    except ShiprailError as exc:
        _fail(str(exc), exc.exit_code, exc)
    except Exception as exc:
        message = f"internal error: {type(exc).__name__}: {_redact(str(exc))}"
        if not _Options.debug:
            message += " (run again with --debug for the traceback)"
        _fail(message, EXIT_TOOL, exc)


def _usage_message(exc: UsageError) -> str:
    """A usage error on one line (a key or argument the user typed may hold a line break),
    then its hint."""
    message = _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode(), exc.message)
    return f"{message}\n  hint: {exc.hint}" if exc.hint else message


def _redact(text: str) -> str:
    """Hide the password of any URL a library error quotes (``scheme://user:secret@host``)."""
    return _URL_PASSWORD.sub(r"\1***@", text)


def _fail(message: str, code: int, exc: BaseException) -> NoReturn:
    """Print the one-line error (after the traceback under --debug) and exit with ``code``."""
    if _Options.debug:
        traceback.print_exception(exc, file=sys.stderr)
    output.error(message)
    raise typer.Exit(code) from None


def _version(value: bool) -> None:
    if value:
        output.emit(f"shiprail {__version__}")
        raise typer.Exit(0)


@app.callback()
def main_callback(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
    debug: Annotated[
        bool,
        typer.Option(
            "--debug", envvar="SHIPRAIL_DEBUG", help="Print tracebacks of failures (no locals)."
        ),
    ] = False,
) -> None:
    """shiprail: security gates, hermetic builds, safe releases and monitoring in one engine."""
    _Options.debug = debug
