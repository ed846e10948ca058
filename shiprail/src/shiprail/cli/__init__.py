"""The ``shiprail`` command line: parse, call one function, map errors to exit codes.

One module per command group registers its commands on the shared Typer app (``_app``).
Heavy imports happen inside commands so ``shiprail --help`` starts fast. Every option can
also come from ``SHIPRAIL_<OPTION>``. Human output goes to stderr, machine output to stdout.
"""

from __future__ import annotations

import sys

from shiprail import output
from shiprail.cli import (  # noqa: F401  (registration)
    consistency,
    console,
    deploy,
    doctor,
    dora,
    image,
    image_scan,
    k8s,
    ledger,
    observe,
    scan,
    sign,
)
from shiprail.cli._app import app

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        output.say("interrupted")
        sys.exit(130)
