"""DORA metrics and incidents: ``dora``, ``incident open|resolve|list``, ``metrics serve|write``."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from shiprail import output
from shiprail.cli._app import JsonOption, app, report

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from prometheus_client import CollectorRegistry

    from shiprail.deploy.incidents import Incidents
    from shiprail.observe.dora import DoraReport

incident_app = typer.Typer(help="Failures declared by a person, counted by `shiprail dora`.")
app.add_typer(incident_app, name="incident")
metrics_app = typer.Typer(help="The DORA figures for Prometheus: an endpoint or a textfile.")
app.add_typer(metrics_app, name="metrics")

SinceOption = Annotated[
    str,
    typer.Option("--since", envvar="SHIPRAIL_SINCE", help="Period ending now: 90d, 12w, 24h."),
]
EnvsOption = Annotated[
    list[str] | None,
    typer.Option(
        "--env", envvar="SHIPRAIL_ENV", help="Environment (repeat; default: all configured)."
    ),
]


def _reporter(since: str) -> Callable[[str], DoraReport]:
    """A function giving the report of one environment now, sharing one ledger and one
    commit-time cache across calls (a metrics server computes it at every scrape)."""
    from shiprail.config import load_config
    from shiprail.deploy.retention import parse_duration
    from shiprail.deploy.runtime import open_ledger
    from shiprail.observe.dora import dora_report
    from shiprail.observe.dora.commits import GitCommitTimes
    from shiprail.paths import repo_root

    period = parse_duration(since)
    targets = load_config().dora
    ledger = open_ledger()
    commits = GitCommitTimes(repo_root())
    lock = threading.Lock()  # scrapes may overlap; the cache is not thread-safe

    def one(environment: str) -> DoraReport:
        with lock:
            return dora_report(
                ledger, environment, commit_times=commits, targets=targets, period=period
            )

    return one


@app.command()
def dora(
    environment: Annotated[
        str, typer.Option("--env", envvar="SHIPRAIL_ENV", help="Environment to measure.")
    ] = "prod",
    since: SinceOption = "90d",
    as_json: JsonOption = False,
) -> None:
    """DORA's four keys from the ledger, with their level and the targets of shiprail.yaml."""

    def body() -> DoraReport:
        return _reporter(since)(environment)

    result = report(body)
    if as_json:
        output.emit_json(result.as_json())
        return
    title = f"DORA metrics of {environment}, {result.since:%Y-%m-%d} to {result.until:%Y-%m-%d}"
    columns = ("metric", "value", "DORA level", "target", "met", "from")
    output.table(title, columns, result.rows())


def _incidents() -> Incidents:
    from shiprail.deploy.incidents import Incidents
    from shiprail.deploy.runtime import open_ledger

    return Incidents(open_ledger())


@incident_app.command("open")
def incident_open(
    environment: Annotated[str, typer.Argument(help="Environment where users see the failure.")],
    summary: Annotated[
        str, typer.Option("--summary", envvar="SHIPRAIL_SUMMARY", help="What users see.")
    ],
    release: Annotated[
        str | None,
        typer.Option(
            "--release", envvar="SHIPRAIL_RELEASE", help="Release blamed (default: the live one)."
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Record a failure caused by a release (a change failure for DORA) until resolved."""
    from shiprail.deploy.approvals import current_actor

    def body() -> None:
        incident = _incidents().open(environment, summary, current_actor(), release)
        output.say(f"incident #{incident.id} opened in {environment} against "
                   f"{incident.release_id or 'no release'}")  # fmt: skip
        if as_json:
            output.emit_json(incident.as_json())

    report(body)


@incident_app.command("resolve")
def incident_resolve(
    environment: Annotated[str, typer.Argument(help="Environment of the incident.")],
    incident_id: Annotated[
        int | None, typer.Argument(help="Incident number (default: the only open one).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Mark an incident resolved: service is restored (time to restore ends here)."""
    from shiprail.deploy.approvals import current_actor

    def body() -> None:
        incident = _incidents().resolve(environment, current_actor(), incident_id)
        output.say(f"incident #{incident.id} in {environment} resolved")
        if as_json:
            output.emit_json(incident.as_json())

    report(body)


@incident_app.command("list")
def incident_list(
    environment: Annotated[
        str | None, typer.Option("--env", envvar="SHIPRAIL_ENV", help="One environment only.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Incidents, newest first, open and resolved."""

    def body() -> None:
        found = _incidents().list(environment)
        if as_json:
            output.emit_json({"incidents": [i.as_json() for i in found]})
            return
        for incident in found:
            output.say(incident.line(), prefix="")
        if not found:
            output.say("no incidents")

    report(body)


def _registry(environments: Sequence[str] | None, since: str) -> CollectorRegistry:
    from shiprail.config import load_config
    from shiprail.observe.dora.exporter import registry_for

    one = _reporter(since)
    names = list(environments or load_config().environments)
    return registry_for(lambda: [one(name) for name in names])


@metrics_app.command("serve")
def metrics_serve(
    host: Annotated[
        str, typer.Option("--host", envvar="SHIPRAIL_HOST", help="Address to listen on.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", envvar="SHIPRAIL_PORT")] = 9109,
    environments: EnvsOption = None,
    since: SinceOption = "90d",
) -> None:
    """Serve the DORA figures on http://HOST:PORT/metrics, computed at each scrape."""
    from shiprail.observe.dora.exporter import serve

    def body() -> None:
        server = serve(_registry(environments, since), host, port)
        output.say(f"serving DORA metrics on http://{host}:{port}/metrics (Ctrl-C stops)")
        try:
            threading.Event().wait()
        finally:
            server.shutdown()

    report(body)


@metrics_app.command("write")
def metrics_write(
    textfile: Annotated[
        Path,
        typer.Option("--textfile", envvar="SHIPRAIL_TEXTFILE", help="File to write (*.prom)."),
    ],
    environments: EnvsOption = None,
    since: SinceOption = "90d",
) -> None:
    """Write the DORA figures for node_exporter's textfile collector (atomic replace)."""
    from shiprail.errors import UsageError
    from shiprail.observe.dora.exporter import write_textfile

    def body() -> None:
        if textfile.suffix != ".prom":
            raise UsageError(
                f"{textfile}: node_exporter reads only *.prom files", hint="--textfile dora.prom"
            )
        write_textfile(_registry(environments, since), textfile)
        output.say(f"DORA metrics written to {textfile}")

    report(body)
