"""`shiprail k8s ...`: render the Helm chart per environment and check it offline."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from shiprail.cli._app import JsonOption, app, report
from shiprail.output import emit

if TYPE_CHECKING:
    from shiprail.kubernetes.cluster import ClusterStatus, LocalCluster

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
    from shiprail.kubernetes import command, gatekeeper

    def run() -> None:
        ctx = command.load(config, None, None)
        command.generated_bundle(
            ctx, gatekeeper, "Gatekeeper bundle", write=write, check_only=check
        )

    report(run)


@k8s_app.command("admission")
def k8s_admission(
    write: Annotated[
        bool, typer.Option("--write", envvar="SHIPRAIL_WRITE", help="Write the policy file.")
    ] = False,
    check: Annotated[
        bool, typer.Option("--check", envvar="SHIPRAIL_CHECK", help="Exit 1 when stale.")
    ] = False,
    config: _K8sConfigOption = None,
) -> None:
    """Translate the Rego rules into in-tree ValidatingAdmissionPolicies (CEL)."""
    from shiprail.kubernetes import admission, command

    def run() -> None:
        ctx = command.load(config, None, None)
        command.generated_bundle(
            ctx, admission, "ValidatingAdmissionPolicies", write=write, check_only=check
        )

    report(run)


cluster_app = typer.Typer(
    help="A local single-node Kubernetes cluster built from upstream sources (needs root).",
    no_args_is_help=True,
)
k8s_app.add_typer(cluster_app, name="cluster")


def _local_cluster() -> LocalCluster:
    from shiprail.deploy.settings import state_dir
    from shiprail.kubernetes.cluster import LocalCluster

    return LocalCluster(state_dir().resolve())


def _show_status(status: ClusterStatus, as_json: bool) -> None:
    from shiprail.output import emit_json, say, table

    if as_json:
        emit_json(status.as_dict())
        return
    rows = [
        (c.name, str(c.pid or "-"), "[green]healthy[/]" if c.healthy else "[red]down[/]")
        for c in status.components
    ]
    table("local Kubernetes cluster", ("component", "pid", "state"), rows)
    ready = "Ready" if status.node_ready else "NotReady"
    say(f"node {status.node}: {ready}; kubeconfig: {status.kubeconfig}")


@cluster_app.command("up")
def k8s_cluster_up(as_json: JsonOption = False) -> None:
    """Start etcd, the control plane, containerd, the kubelet and kube-proxy (idempotent:
    only what is not running is started), and wait until the node is Ready."""
    from shiprail.output import say

    def run() -> ClusterStatus:
        cluster = _local_cluster()
        status = cluster.up()
        started = ", ".join(status.started) or "nothing (already up)"
        say(f"cluster up; started: {started}")
        return status

    _show_status(report(run), as_json)


@cluster_app.command("down")
def k8s_cluster_down() -> None:
    """Stop every process of the cluster, delete its containers, unmount its mounts and remove
    its network leftovers (certificates, etcd data and imported images are kept)."""
    from shiprail.output import say

    for line in report(lambda: _local_cluster().down()) or ["nothing was running"]:
        say(line)
    say("cluster down")


@cluster_app.command("status")
def k8s_cluster_status(as_json: JsonOption = False) -> None:
    """Each component's pid and health, and whether the node is Ready. Exit 1 when the
    cluster is not fully up."""
    status = report(lambda: _local_cluster().status())
    _show_status(status, as_json)
    if not status.up:
        raise typer.Exit(1)


@cluster_app.command("import")
def k8s_cluster_import(
    image: Annotated[str, typer.Argument(help="An image the Docker Engine has (name:tag).")],
) -> None:
    """Copy an image from the Docker Engine into the cluster's containerd (no registry to pull
    from): pods name it as Docker does, with imagePullPolicy IfNotPresent."""
    from shiprail.output import say

    name = report(lambda: _local_cluster().import_image(image))
    say(f"imported {name}")
