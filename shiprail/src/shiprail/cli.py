"""The ``shiprail`` command line: parse, call one function, map errors to exit codes.

Heavy imports happen inside commands so ``shiprail --help`` starts fast. Every option can
also come from ``SHIPRAIL_<OPTION>``. Human output goes to stderr, machine output to stdout.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Annotated, TypeVar

import typer

from shiprail import __version__
from shiprail.errors import EXIT_TOOL, ShiprailError

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


# Each subsystem adds its commands in its own block below (keep blocks in this order):
# --- build commands ---
build_app = typer.Typer(help="Build the service image (hermetic: no network inside the build).")
app.add_typer(build_app, name="build")


@build_app.command("base-image")
def build_base_image(
    package: Annotated[
        list[str] | None,
        typer.Option("--package", envvar="SHIPRAIL_PACKAGE", help="Extra Debian package."),
    ] = None,
) -> None:
    """Build (or reuse) the Debian-made Python base image and print its tag."""
    from shiprail.build.base_image import ensure_base_image
    from shiprail.build.docker_client import docker_client

    tag = report(lambda: ensure_base_image(docker_client(), tuple(package or ())))
    typer.echo(tag)


@build_app.command("image")
def build_image_command(
    repository: Annotated[
        str, typer.Option(envvar="SHIPRAIL_REPOSITORY", help="Image repository name.")
    ] = "workorders",
    offline: Annotated[
        bool,
        typer.Option(
            "--offline/--online",
            envvar="SHIPRAIL_OFFLINE",
            help="Offline: never try to pull the upstream base image.",
        ),
    ] = False,
    find_links: Annotated[
        str | None,
        typer.Option(envvar="SHIPRAIL_FIND_LINKS", help="Wheel mirror directory (air-gapped)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", envvar="SHIPRAIL_JSON")] = False,
) -> None:
    """Build the workorders image from a host-built wheelhouse; print its reference."""
    from shiprail.build.docker_client import docker_client
    from shiprail.build.image import build_image

    def run() -> object:
        return build_image(
            docker_client(),
            repository=repository,
            offline=offline,
            find_links=find_links,
            progress=lambda message: typer.echo(f"build: {message}", err=True),
        )

    built = report(run)
    if as_json:
        typer.echo(json.dumps(built.__dict__))  # type: ignore[attr-defined]
    else:
        typer.echo(built.reference)  # type: ignore[attr-defined]


# --- scan commands ---
# --- deploy commands ---
# --- observe commands ---
slo_app = typer.Typer(help="Service level objectives as code: rules and reports.")
app.add_typer(slo_app, name="slo")
SloDirOption = Annotated[
    str | None, typer.Option(envvar="SHIPRAIL_SLO_DIR", help="SLO specs directory.")
]


@slo_app.command("generate")
def slo_generate(
    slo_dir: SloDirOption = None,
    rules_file: Annotated[
        str | None, typer.Option(envvar="SHIPRAIL_RULES_FILE", help="Rules file to write.")
    ] = None,
    check: Annotated[
        bool,
        typer.Option(
            "--check", envvar="SHIPRAIL_CHECK", help="Write nothing; exit 1 if the file is stale."
        ),
    ] = False,
) -> None:
    """Write Prometheus recording rules and multi-window burn-rate alerts from the SLO specs."""
    from shiprail.observe.slo import GenerateResult, generate_from_config

    def run() -> GenerateResult:
        return generate_from_config(slo_dir, rules_file, check=check)

    result = report(run)
    state = "is up to date" if check else ("written" if result.changed else "unchanged")
    typer.echo(f"slo: {result.path} {state} ({', '.join(result.slos)})", err=True)


@slo_app.command("report")
def slo_report(
    prometheus_url: Annotated[
        str | None, typer.Option(envvar="SHIPRAIL_PROMETHEUS_URL", help="Prometheus base URL.")
    ] = None,
    slo_dir: SloDirOption = None,
    as_json: Annotated[bool, typer.Option("--json", envvar="SHIPRAIL_JSON")] = False,
) -> None:
    """Print each SLO's compliance and remaining error budget, read from Prometheus."""
    from shiprail.observe.slo_report import SLOStatus, print_table, report_from_config

    def run() -> list[SLOStatus]:
        return report_from_config(prometheus_url, slo_dir)

    rows = report(run)
    if as_json:
        typer.echo(json.dumps({"slos": [row.as_dict() for row in rows]}, indent=2))
    else:
        print_table(rows)


# --- kubernetes commands ---


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("shiprail: interrupted", err=True)
        sys.exit(130)
