"""Observability commands: SLOs as code, monitoring images, the incident drill."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shiprail import output
from shiprail.cli._app import JsonOption, app, report

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
    output.say(f"{result.path} {state} ({', '.join(result.slos)})", prefix="slo")


@slo_app.command("report")
def slo_report(
    prometheus_url: Annotated[
        str | None, typer.Option(envvar="SHIPRAIL_PROMETHEUS_URL", help="Prometheus base URL.")
    ] = None,
    slo_dir: SloDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Print each SLO's compliance and remaining error budget, read from Prometheus."""
    from shiprail.observe.slo_report import SLOStatus, print_table, report_from_config

    def run() -> list[SLOStatus]:
        return report_from_config(prometheus_url, slo_dir)

    rows = report(run)
    if as_json:
        output.emit_json({"slos": [row.as_dict() for row in rows]})
    else:
        print_table(rows)


monitoring_app = typer.Typer(
    help="Prometheus and Alertmanager for the Compose stack.", no_args_is_help=True
)
app.add_typer(monitoring_app, name="monitoring")


@monitoring_app.command("images")
def monitoring_images(
    name: Annotated[
        list[str] | None,
        typer.Option(
            "--name", envvar="SHIPRAIL_NAME", help="prometheus or alertmanager (repeat; all)."
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", envvar="SHIPRAIL_FORCE", help="Rebuild even if current.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Build the Prometheus and Alertmanager images from Debian packages, with no network."""
    from shiprail._docker import docker_client
    from shiprail.observe.images import BuiltImage, build_monitoring_images

    def run() -> list[BuiltImage]:
        return build_monitoring_images(
            docker_client(), name, force=force, say=output.sayer("monitoring")
        )

    built = report(run)
    if as_json:
        output.emit_json({"images": [b.as_dict() for b in built]})
    else:
        for image in built:
            output.emit(f"{image.reference} ({image.local_reference}, {image.package_version})")


@app.command("drill")
def drill_command(
    workdir: Annotated[
        str | None,
        typer.Option(
            envvar="SHIPRAIL_WORKDIR", help="Keep configs and logs here (else a temp dir)."
        ),
    ] = None,
    compression: Annotated[
        int,
        typer.Option(
            envvar="SHIPRAIL_COMPRESSION", min=1, help="Divide every rule duration by this."
        ),
    ] = 60,
    as_json: JsonOption = False,
) -> None:
    """Incident drill: real workorders, Prometheus and Alertmanager; faults in, alerts out."""
    import tempfile

    from shiprail.observe.drill import DrillResult, run_drill
    from shiprail.paths import repo_root

    def run() -> DrillResult:
        with tempfile.TemporaryDirectory(prefix="shiprail-drill-") as tmp:
            return run_drill(
                repo_root(),
                Path(workdir) if workdir else Path(tmp),
                compression=compression,
                say=output.sayer("drill"),
            )

    result = report(run)
    if as_json:
        output.emit_json(result.as_dict())
    else:
        output.emit("Incident drill timeline:\n" + result.timeline.render())
