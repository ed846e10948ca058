"""`shiprail ledger check [ENV] [--repair]`, `shiprail edge repair [ENV]` and `shiprail edge
bans [ENV]`: the ledger
against what runs, after a reboot, a killed run or a hand-made change (the rules are in
``shiprail.deploy.consistency``).

One line per disagreement on stdout, so a scheduled check can mail or alert on it; the exit
code is 1 while a disagreement remains, so the same check gates a pipeline.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from shiprail import output
from shiprail.cli._app import JsonOption, app, report
from shiprail.cli.ledger import ledger_app

if TYPE_CHECKING:
    from shiprail.deploy.engine import Engine
    from shiprail.deploy.routers.edge_bans import Ban

edge_app = typer.Typer(help="The edge proxy in front of each environment.")
app.add_typer(edge_app, name="edge")

EnvironmentArgument = Annotated[
    str | None,
    typer.Argument(metavar="[ENV]", help="Environment from shiprail.yaml (default: all)."),
]


def _engine() -> Engine:
    """The configured engine. No trust is handed in: these commands admit no image, they
    only resume and route to releases the ledger already has live."""
    from shiprail.deploy.runtime import install_signal_handlers, open_engine

    install_signal_handlers()
    return open_engine()


def _names(engine: Engine, environment: str | None) -> list[str]:
    if environment is not None:
        engine.env(environment)
        return [environment]
    return list(engine.config.environments)


@ledger_app.command("check")
def check(
    environment: EnvironmentArgument = None,
    repair: Annotated[
        bool,
        typer.Option("--repair", help="Fix each disagreement from the ledger, then check again."),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Compare the ledger with the containers and the edge; one line per disagreement
    (exit 1 while one remains)."""
    from shiprail.deploy import consistency

    def body() -> list[consistency.Report]:
        engine = _engine()
        run = consistency.repair if repair else consistency.check
        return [run(engine, name) for name in _names(engine, environment)]

    reports = report(body)
    if as_json:
        output.emit_json([r.as_json() for r in reports])
    else:
        for result in reports:
            for line in result.lines():
                output.emit(line)
            if not result.findings and not result.busy:
                output.say(f"{result.environment}: the ledger and what runs agree")
    if any(r.findings for r in reports):
        raise typer.Exit(1)


@edge_app.command("repair")
def edge_repair(environment: EnvironmentArgument = None) -> None:
    """Rebuild the edge of each environment from the ledger, without a deploy: all traffic
    to the live release's replicas (resumed if stopped); the proxy is started if gone."""
    from shiprail.deploy import consistency

    def body() -> None:
        engine = _engine()
        for name in _names(engine, environment):
            if engine.ledger.live_release(name) is None:
                output.say(f"{name}: no release is live, nothing to route")
                continue
            replicas = consistency.repair_edge(engine, name)
            output.say(
                f"{name}: the edge routes to {replicas[0].release_id} ({len(replicas)} replica(s))"
            )

    report(body)


@edge_app.command("bans")
def edge_bans(environment: EnvironmentArgument = None, as_json: JsonOption = False) -> None:
    """Addresses the edge refuses (429) after repeated failed sign-ins, per environment,
    over the last hour; one line each."""

    def body() -> list[tuple[str, list[Ban]]]:
        engine = _engine()
        if engine.platform.bans is None:
            return []
        return [
            (name, engine.platform.bans(name, engine.env(name)))
            for name in _names(engine, environment)
        ]

    rows = report(body)
    if as_json:
        output.emit_json(
            [
                {"environment": name, "address": b.address, "refused": b.refused, "last": b.last}
                for name, found in rows
                for b in found
            ]
        )
        return
    for name, found in rows:
        for ban in found:
            output.emit(f"{name}: {ban.address} refused {ban.refused}x (last {ban.last[:19]})")
        if not found:
            output.say(f"{name}: no address is refused")
