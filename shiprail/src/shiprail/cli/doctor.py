"""`shiprail doctor`: which external tools and services are there, pinned and found."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from shiprail.cli._app import app, report
from shiprail.errors import EXIT_TOOL


@app.command()
def doctor(
    as_json: Annotated[
        bool, typer.Option("--json", envvar="SHIPRAIL_JSON", help="Machine-readable output.")
    ] = False,
) -> None:
    """List every external tool and service with the version found and pinned (exit 3 when a
    required one is missing)."""
    from shiprail.tools import doctor as run_doctor
    from shiprail.tools import load_lock

    statuses = report(lambda: run_doctor(load_lock()))
    missing = [s for s in statuses if s.tool.required and not s.ok]
    if as_json:
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
        typer.echo(json.dumps({"tools": rows, "ok": not missing}, indent=2))
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(title="shiprail doctor")
        for column in ("tool", "need", "pinned", "found", "status / install with"):
            table.add_column(column)
        for s in statuses:
            if s.ok:
                state = "[green]ok[/green]"
            elif s.found is None:
                state = f"[red]missing[/red]: {s.tool.install_command()}"
            else:
                state = f"[yellow]version differs[/yellow]: {s.tool.install_command()}"
            need = "required" if s.tool.required else "optional"
            table.add_row(s.tool.name, need, s.tool.version, s.found or "-", state)
        Console(stderr=True, width=160).print(table)
    if missing:
        names = ", ".join(s.tool.name for s in missing)
        typer.echo(f"shiprail: {len(missing)} required tool(s) missing or wrong: {names}", err=True)
        raise typer.Exit(EXIT_TOOL)
