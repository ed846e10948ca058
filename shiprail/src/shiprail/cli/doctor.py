"""`shiprail doctor`: which external tools and services are there, pinned and found."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from shiprail.cli._app import app, report

if TYPE_CHECKING:
    from shiprail.tools import ToolStatus


@app.command()
def doctor(
    as_json: Annotated[
        bool, typer.Option("--json", envvar="SHIPRAIL_JSON", help="Machine-readable output.")
    ] = False,
) -> None:
    """List every external tool and service with the version found and pinned, and the path
    each run will use (exit 3 when a required one is missing)."""

    def check() -> None:
        from shiprail.tools import doctor as run_doctor
        from shiprail.tools import load_lock, require_ready

        statuses = run_doctor(load_lock())
        if as_json:
            _print_json(statuses)
        else:
            _print_table(statuses)
        require_ready(statuses)

    report(check)


def _print_json(statuses: list[ToolStatus]) -> None:
    rows = [
        {
            "name": s.tool.name,
            "kind": s.tool.kind,
            "pinned": s.tool.version,
            "found": s.found,
            "path": s.path,
            "required": s.tool.required,
            "ok": s.ok,
            "install": s.tool.install_command(),
        }
        for s in statuses
    ]
    ok = all(s.ok for s in statuses if s.tool.required)
    typer.echo(json.dumps({"tools": rows, "ok": ok}, indent=2))


def _print_table(statuses: list[ToolStatus]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="shiprail doctor")
    for column in ("tool", "need", "pinned", "found", "path", "status / install with"):
        table.add_column(column)
    for s in statuses:
        if s.ok:
            state = "[green]ok[/green]"
        elif s.found is None:
            state = f"[red]missing[/red]: {s.tool.install_command()}"
        else:
            state = f"[yellow]version differs[/yellow]: {s.tool.install_command()}"
        need = "required" if s.tool.required else "optional"
        table.add_row(s.tool.name, need, s.tool.version, s.found or "-", s.path or "-", state)
    Console(stderr=True, width=200).print(table)
