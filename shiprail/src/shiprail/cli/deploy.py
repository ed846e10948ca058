"""Release commands: deploy, promote, approve, rollback, status, history, prune, unlock."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from shiprail.cli._app import app, report


def _engine() -> object:
    from shiprail.deploy.runtime import install_signal_handlers, open_engine

    install_signal_handlers()
    return open_engine()


def _default_image() -> str:
    from shiprail.config import load_config
    from shiprail.image.build import git_sha, service_version
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
