"""The ``shiprail`` command line: parse, call one function, map errors to exit codes.

Heavy imports happen inside commands so ``shiprail --help`` starts fast. Every option can
also come from ``SHIPRAIL_<OPTION>``. Human output goes to stderr, machine output to stdout.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Callable
from pathlib import Path
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

    built = report(
        lambda: build_image(
            docker_client(),
            repository=repository,
            offline=offline,
            find_links=find_links,
            progress=lambda message: typer.echo(f"build: {message}", err=True),
        )
    )
    typer.echo(json.dumps(dataclasses.asdict(built)) if as_json else built.reference)


# --- scan commands ---
@app.command()
def scan(
    path: Annotated[
        Path | None,
        typer.Argument(envvar="SHIPRAIL_PATH", help="Directory to scan (default: repo root)."),
    ] = None,
    fmt: Annotated[
        list[str] | None,
        typer.Option(
            "--format",
            envvar="SHIPRAIL_FORMAT",
            help="text|json|sarif|junit|markdown|html; repeat for several (pair with --output).",
        ),
    ] = None,
    output: Annotated[
        list[str] | None,
        typer.Option(envvar="SHIPRAIL_OUTPUT", help="Report file per --format ('-' = stdout)."),
    ] = None,
    reports_dir: Annotated[
        Path | None,
        typer.Option(
            envvar="SHIPRAIL_REPORTS_DIR",
            help="Where reports go when no --output (default: PATH/reports).",
        ),
    ] = None,
    baseline: Annotated[
        Path | None,
        typer.Option(envvar="SHIPRAIL_BASELINE", help="Block only on findings not in it."),
    ] = None,
    write_baseline: Annotated[
        Path | None,
        typer.Option(envvar="SHIPRAIL_WRITE_BASELINE", help="Record current findings here."),
    ] = None,
    changed_since: Annotated[
        str | None,
        typer.Option(envvar="SHIPRAIL_CHANGED_SINCE", help="Scan only files changed since REF."),
    ] = None,
    git_history: Annotated[
        bool,
        typer.Option(
            "--git-history",
            envvar="SHIPRAIL_GIT_HISTORY",
            help="Also scan every commit's diff for secrets (gitleaks; scan.git_history).",
        ),
    ] = False,
    only: Annotated[
        list[str] | None,
        typer.Option(envvar="SHIPRAIL_ONLY", help="Run only these scanners (TOOL,...)."),
    ] = None,
    skip: Annotated[
        list[str] | None,
        typer.Option(envvar="SHIPRAIL_SKIP", help="Do not run these scanners (TOOL,...)."),
    ] = None,
    offline: Annotated[
        bool,
        typer.Option(envvar="SHIPRAIL_OFFLINE", help="No network: OSV snapshot for dependencies."),
    ] = False,
    config: Annotated[
        Path | None,
        typer.Option(envvar="SHIPRAIL_CONFIG", help="shiprail.yaml to use (default: PATH's)."),
    ] = None,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", envvar="SHIPRAIL_NO_CACHE", help="Ignore cached results.")
    ] = False,
    jobs: Annotated[
        int | None,
        typer.Option(envvar="SHIPRAIL_JOBS", min=1, help="Scanners in parallel (default: cores)."),
    ] = None,
) -> None:
    """Run every applicable security scanner, write SARIF/JSON/JUnit/Markdown/HTML reports
    and decide: exit 0 passed, 1 blocking findings, 2 usage/config error, 3 scanner missing
    or crashed."""
    from shiprail.paths import repo_root
    from shiprail.scan.command import ScanRequest, execute, split_names

    request = ScanRequest(
        path=path or repo_root(),
        formats=split_names(fmt),
        outputs=tuple(output or ()),
        reports_dir=reports_dir,
        baseline=baseline,
        write_baseline=write_baseline,
        changed_since=changed_since,
        git_history=git_history,
        only=split_names(only),
        skip=split_names(skip),
        offline=offline,
        config=config,
        use_cache=not no_cache,
        jobs=jobs,
    )
    code = report(lambda: execute(request))
    raise typer.Exit(code)


# --- deploy commands ---
def _engine() -> object:
    from shiprail.deploy.runtime import install_signal_handlers, open_engine

    install_signal_handlers()
    return open_engine()


def _default_image() -> str:
    from shiprail.build.image import git_sha, service_version
    from shiprail.config import load_config
    from shiprail.paths import repo_root

    root = repo_root()
    config = load_config()
    return f"{config.service.image}:{service_version(root / config.service.path)}-{git_sha(root)}"


def _print_release(release: object, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(release.as_json(), indent=2))  # type: ignore[attr-defined]


@app.command()
def deploy(
    environment: Annotated[str, typer.Argument(help="Environment from shiprail.yaml (dev, ...).")],
    image: Annotated[
        str | None,
        typer.Option(
            "--image",
            envvar="SHIPRAIL_IMAGE",
            help="Image reference (default: the "
            "image `shiprail build image` makes for this commit).",
        ),
    ] = None,
    wait: Annotated[
        bool, typer.Option("--wait", envvar="SHIPRAIL_WAIT", help="Queue behind a running deploy.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", envvar="SHIPRAIL_JSON")] = False,
) -> None:
    """Ship an image to an environment with blue/green (exit 1 if it failed and was undone)."""

    def body() -> None:
        engine = _engine()
        ref = image or _default_image()
        release = engine.deploy(environment, ref, wait=wait)  # type: ignore[attr-defined]
        url = engine.status(environment)[0]["url"]  # type: ignore[attr-defined]
        typer.echo(f"shiprail: release {release.id} is live in {environment}: {url}", err=True)
        from shiprail.deploy.runtime import access_hints

        for hint in access_hints(environment):
            typer.echo(f"shiprail:   {hint}", err=True)
        _print_release(release, as_json)

    report(body)


@app.command()
def promote(
    source: Annotated[str, typer.Argument(help="Environment whose live release is promoted.")],
    destination: Annotated[str, typer.Argument(help="Environment it goes to.")],
    wait: Annotated[bool, typer.Option("--wait", envvar="SHIPRAIL_WAIT")] = False,
    as_json: Annotated[bool, typer.Option("--json", envvar="SHIPRAIL_JSON")] = False,
) -> None:
    """Ship the exact release running in SOURCE to DESTINATION (exit 4 until approved)."""

    def body() -> None:
        engine = _engine()
        release = engine.promote(source, destination, wait=wait)  # type: ignore[attr-defined]
        typer.echo(f"shiprail: release {release.id} is live in {destination}", err=True)
        _print_release(release, as_json)

    report(body)


@app.command()
def approve(
    environment: Annotated[str, typer.Argument(help="Environment the release may enter.")],
    release: Annotated[str, typer.Argument(help="Release id (see `shiprail status`).")],
    reason: Annotated[str, typer.Option("--reason", envvar="SHIPRAIL_REASON", help="Why.")],
) -> None:
    """Approve a release for promotion into a guarded environment (recorded in the ledger)."""

    def body() -> None:
        approval = _engine().approve(environment, release, reason)  # type: ignore[attr-defined]
        typer.echo(f"shiprail: {approval.approver} approved {release} for {environment}", err=True)

    report(body)


@app.command()
def rollback(
    environment: Annotated[str, typer.Argument(help="Environment to roll back.")],
    to: Annotated[
        str | None,
        typer.Option("--to", envvar="SHIPRAIL_TO", help="Release id (default: the previous one)."),
    ] = None,
    reason: Annotated[str, typer.Option("--reason", envvar="SHIPRAIL_REASON")] = "",
    wait: Annotated[bool, typer.Option("--wait", envvar="SHIPRAIL_WAIT")] = False,
    as_json: Annotated[bool, typer.Option("--json", envvar="SHIPRAIL_JSON")] = False,
) -> None:
    """Put an earlier release back in front, from its retained containers."""

    def body() -> None:
        engine = _engine()
        release = engine.rollback(environment, to, wait=wait, reason=reason)  # type: ignore[attr-defined]
        typer.echo(f"shiprail: release {release.id} is live again in {environment}", err=True)
        _print_release(release, as_json)

    report(body)


@app.command()
def status(
    environment: Annotated[
        str | None, typer.Argument(help="One environment (default: all).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", envvar="SHIPRAIL_JSON")] = False,
) -> None:
    """What runs where: live release, image digest, replicas, URL, lock."""

    def body() -> None:
        rows = _engine().status(environment)  # type: ignore[attr-defined]
        if as_json:
            typer.echo(json.dumps(rows, indent=2))
            return
        for row in rows:
            rel = row["release"]
            what = (
                f"{rel['id']} {rel['image']} ({rel['image_digest'][:19]}, {rel['colour']}, since "
                f"{(rel['live_at'] or '')[:19]})"
                if rel
                else "nothing deployed"
            )
            running = row["replicas"]["running"]
            reps = f"{running if running is not None else '?'}/{row['replicas']['expected']}"
            typer.echo(f"{row['environment']:<8} {what}  replicas {reps}  {row['url']}", err=True)

    report(body)


@app.command()
def history(
    environment: Annotated[str, typer.Argument(help="Environment.")],
    as_json: Annotated[bool, typer.Option("--json", envvar="SHIPRAIL_JSON")] = False,
) -> None:
    """Every deploy, promotion and rollback of an environment, newest first."""

    def body() -> None:
        rows = _engine().history(environment)  # type: ignore[attr-defined]
        if as_json:
            typer.echo(json.dumps(rows, indent=2))
            return
        for row in rows:
            line = (
                f"{row['started_at'][:19]}  {row['action']:<8} {row['release_id']:<22} "
                f"{row['status']:<17} by {row['actor']}"
            )
            if row.get("reason") or row.get("cause"):
                line += f"  ({row.get('reason') or row.get('cause')})"
            typer.echo(line, err=True)

    report(body)


@app.command()
def prune(
    older_than: Annotated[
        str, typer.Option("--older-than", envvar="SHIPRAIL_OLDER_THAN", help="e.g. 7d, 12h.")
    ] = "7d",
    as_json: Annotated[bool, typer.Option("--json", envvar="SHIPRAIL_JSON")] = False,
) -> None:
    """Remove old release containers and images (never those the last N releases need)."""

    def body() -> None:
        from shiprail.deploy.engine import parse_duration

        removed = _engine().prune(parse_duration(older_than))  # type: ignore[attr-defined]
        if as_json:
            typer.echo(json.dumps(removed, indent=2))
        typer.echo(
            f"shiprail: removed {len(removed['containers'])} container(s), "
            f"{len(removed['images'])} image(s)",
            err=True,
        )

    report(body)


@app.command()
def unlock(
    environment: Annotated[str, typer.Argument(help="Environment whose deploy lock to clear.")],
) -> None:
    """Clear a deploy lock by hand (a lock of a killed process is also recovered by itself)."""

    def body() -> None:
        from shiprail.deploy.runtime import open_ledger

        cleared = open_ledger().unlock(environment)
        typer.echo(f"shiprail: {'cleared' if cleared else 'no'} lock on {environment}", err=True)

    report(body)


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
    as_json: Annotated[bool, typer.Option("--json", envvar="SHIPRAIL_JSON")] = False,
) -> None:
    """Build the Prometheus and Alertmanager images from Debian packages, with no network."""
    from shiprail.build.docker_client import docker_client
    from shiprail.observe.images import BuiltImage, build_monitoring_images

    def run() -> list[BuiltImage]:
        say = lambda line: typer.echo(f"monitoring: {line}", err=True)  # noqa: E731
        return build_monitoring_images(docker_client(), name, force=force, say=say)

    built = report(run)
    if as_json:
        typer.echo(json.dumps({"images": [b.as_dict() for b in built]}, indent=2))
    else:
        for image in built:
            typer.echo(f"{image.reference} ({image.local_reference}, {image.package_version})")


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
    as_json: Annotated[bool, typer.Option("--json", envvar="SHIPRAIL_JSON")] = False,
) -> None:
    """Incident drill: real workorders, Prometheus and Alertmanager; faults in, alerts out."""
    import tempfile
    from pathlib import Path

    from shiprail.observe.drill import DrillResult, run_drill
    from shiprail.paths import repo_root

    def run() -> DrillResult:
        with tempfile.TemporaryDirectory(prefix="shiprail-drill-") as tmp:
            return run_drill(
                repo_root(),
                Path(workdir) if workdir else Path(tmp),
                compression=compression,
                say=lambda line: typer.echo(f"drill: {line}", err=True),
            )

    result = report(run)
    if as_json:
        typer.echo(json.dumps(result.as_dict(), indent=2))
    else:
        typer.echo("Incident drill timeline:\n" + result.timeline.render())


# --- kubernetes commands ---
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
    as_json: Annotated[
        bool, typer.Option("--json", envvar="SHIPRAIL_JSON", help="JSON report on stdout.")
    ] = False,
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

    def run() -> int:
        ctx = command.load(config, crds, fail_on)
        return command.check(ctx, env or [], as_json=as_json, output=output, checkov=not no_checkov)

    raise typer.Exit(report(run))


@k8s_app.command("render")
def k8s_render(
    env: Annotated[str, typer.Option("--env", envvar="SHIPRAIL_ENV", help="Environment.")],
    config: _K8sConfigOption = None,
) -> None:
    """Print the manifests of one environment, exactly as checked and deployed."""
    from shiprail.kubernetes import command

    typer.echo(report(lambda: command.render_environment(command.load(config, None, None), env)))


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

    def run() -> int:
        ctx = command.load(config, None, None)
        return command.gatekeeper_bundle(ctx, write=write, check_only=check)

    raise typer.Exit(report(run))


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("shiprail: interrupted", err=True)
        sys.exit(130)
