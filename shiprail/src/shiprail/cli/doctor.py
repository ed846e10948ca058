"""`shiprail doctor`: which external tools and services are there, pinned and found."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shiprail import output
from shiprail.cli._app import JsonOption, app, report

if TYPE_CHECKING:
    from shiprail.tools import ToolStatus


@app.command()
def doctor(
    as_json: JsonOption = False,
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
    output.emit_json({"tools": rows, "ok": ok})


def _print_table(statuses: list[ToolStatus]) -> None:
    columns = ("tool", "need", "pinned", "found", "path", "status / install with")
    rows = []
    for s in statuses:
        if s.ok:
            state = "[green]ok[/green]"
        elif s.found is None:
            state = f"[red]missing[/red]: {s.tool.install_command()}"
        else:
            state = f"[yellow]version differs[/yellow]: {s.tool.install_command()}"
        need = "required" if s.tool.required else "optional"
        rows.append((s.tool.name, need, s.tool.version, s.found or "-", s.path or "-", state))
    output.table("shiprail doctor", columns, rows, width=200)
