"""`shiprail k8s ...`: render the Helm chart per environment and check it offline."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shiprail.cli._app import JsonOption, app, report
from shiprail.output import emit

k8s_app = typer.Typer(
    help="Kubernetes: render the Helm chart per environment and check it offline.",
    no_args_is_help=True,
)
app.add_typer(k8s_app, name="k8s")

_K8sConfigOption = Annotated[
    Path | None,
    typer.Option("--config", envvar="SHIPRAIL_CONFIG", help="shiprail.yaml to use."),
]


@k8s_app.command("check")
def k8s_check(
    env: Annotated[
        list[str] | None,
        typer.Option("--env", envvar="SHIPRAIL_ENV", help="Only these environments (repeat)."),
    ] = None,
    as_json: JsonOption = False,
    output: Annotated[
        Path | None, typer.Option(envvar="SHIPRAIL_OUTPUT", help="Also write the JSON report here.")
    ] = None,
    fail_on: Annotated[
        str | None,
        typer.Option(envvar="SHIPRAIL_FAIL_ON", help="critical|high|medium|low (default: config)."),
    ] = None,
    no_checkov: Annotated[
        bool, typer.Option("--no-checkov", envvar="SHIPRAIL_NO_CHECKOV", help="Skip checkov.")
    ] = False,
    crds: Annotated[
        Path | None, typer.Option(envvar="SHIPRAIL_CRDS", help="Directory of CRD schemas.")
    ] = None,
    config: _K8sConfigOption = None,
) -> None:
    """Render every environment (helm lint + template) and check the objects and gitops/
    manifests: Kubernetes and CRD schemas, the Rego admission policies, checkov. Exit 1 on
    blocking findings."""
    from shiprail.kubernetes import command

    def run() -> None:
        ctx = command.load(config, crds, fail_on)
        command.check(ctx, env or [], as_json=as_json, output=output, checkov=not no_checkov)

    report(run)


@k8s_app.command("render")
def k8s_render(
    env: Annotated[str, typer.Option("--env", envvar="SHIPRAIL_ENV", help="Environment.")],
    config: _K8sConfigOption = None,
) -> None:
    """Print the manifests of one environment, exactly as checked and deployed."""
    from shiprail.kubernetes import command

    emit(report(lambda: command.render_environment(command.load(config, None, None), env)))


@k8s_app.command("gatekeeper")
def k8s_gatekeeper(
    write: Annotated[
        bool, typer.Option("--write", envvar="SHIPRAIL_WRITE", help="Write the bundle files.")
    ] = False,
    check: Annotated[
        bool, typer.Option("--check", envvar="SHIPRAIL_CHECK", help="Exit 1 when stale.")
    ] = False,
    config: _K8sConfigOption = None,
) -> None:
    """Package the Rego rules as Gatekeeper ConstraintTemplates and Constraints."""
    from shiprail.kubernetes import command

    def run() -> None:
        ctx = command.load(config, None, None)
        command.gatekeeper_bundle(ctx, write=write, check_only=check)

    report(run)
