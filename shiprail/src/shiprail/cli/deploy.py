"""Release commands: deploy, promote, abort, approve, rollback, status, history, prune,
unlock."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from shiprail import output
from shiprail.cli._app import JsonOption, app, report
from shiprail.errors import UsageError

if TYPE_CHECKING:
    from shiprail.deploy.engine import Engine
    from shiprail.deploy.records import Release


def _engine() -> Engine:
    """The configured engine, admitting images through the supply chain's checks."""
    from shiprail.deploy.runtime import install_signal_handlers, open_engine
    from shiprail.image.trust import production_trust

    install_signal_handlers()
    return open_engine(trust=production_trust())


def _default_image() -> str:
    """The image ``shiprail build image`` makes from this checkout (``-dirty`` when the tree
    has uncommitted changes, as the build names it)."""
    from shiprail.config import load_config
    from shiprail.image.build import git_sha, image_reference, service_version, working_tree_dirty
    from shiprail.paths import repo_root

    root = repo_root()
    config = load_config()
    version = service_version(root / config.service.path)
    return image_reference(config.service.image, version, git_sha(root), working_tree_dirty(root))


def _print_release(release: Release, as_json: bool) -> None:
    if as_json:
        output.emit_json(release.as_json())


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
    commit: Annotated[
        str | None,
        typer.Option(
            envvar="SHIPRAIL_COMMIT",
            help="The commit being shipped, which the image's provenance must name "
            "(default: HEAD).",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Verify an image (signature, provenance, scan), then ship it to an environment,
    blue/green or canary as it says (exit 1 if refused or undone)."""

    def body() -> None:
        engine = _engine()
        ref = image or _default_image()
        release = engine.deploy(environment, ref, wait=wait, commit=commit)
        url = engine.status(environment)[0].url
        output.say(f"release {release.id} is live in {environment}: {url}")
        from shiprail.deploy.runtime import access_hints

        for hint in access_hints(environment):
            output.say(f"  {hint}")
        _print_release(release, as_json)

    report(body)


@app.command()
def promote(
    source: Annotated[
        str,
        typer.Argument(
            help="Environment whose live release is promoted (with --skip-analysis: the "
            "environment whose canary goes to 100 %)."
        ),
    ],
    destination: Annotated[str | None, typer.Argument(help="Environment it goes to.")] = None,
    skip_analysis: Annotated[
        bool,
        typer.Option(
            "--skip-analysis",
            envvar="SHIPRAIL_SKIP_ANALYSIS",
            help="Send the canary in progress in SOURCE to 100 % without judging it.",
        ),
    ] = False,
    reason: Annotated[
        str, typer.Option("--reason", envvar="SHIPRAIL_REASON", help="Why (--skip-analysis).")
    ] = "",
    wait: Annotated[bool, typer.Option("--wait", envvar="SHIPRAIL_WAIT")] = False,
    as_json: JsonOption = False,
) -> None:
    """Ship the exact release running in SOURCE to DESTINATION (exit 4 until approved); or,
    with --skip-analysis, promote the canary in progress in SOURCE at its next interval."""

    def body() -> None:
        if skip_analysis:
            if destination is not None:
                raise UsageError("--skip-analysis takes one environment: the one with a canary")
            _request(source, "skip-analysis", reason, as_json)
            return
        if destination is None:
            raise UsageError("promote needs SOURCE and DESTINATION environments")
        engine = _engine()
        release = engine.promote(source, destination, wait=wait)
        output.say(f"release {release.id} is live in {destination}")
        _print_release(release, as_json)

    report(body)


@app.command()
def abort(
    environment: Annotated[str, typer.Argument(help="Environment with a canary in progress.")],
    reason: Annotated[str, typer.Option("--reason", envvar="SHIPRAIL_REASON", help="Why.")],
    as_json: JsonOption = False,
) -> None:
    """Abort the canary in progress in ENVIRONMENT: the running deploy sends all traffic back
    to the stable release at its next interval (recorded in the ledger with who and why)."""

    def body() -> None:
        _request(environment, "abort", reason, as_json)

    report(body)


def _request(environment: str, what: str, reason: str, as_json: bool) -> None:
    """Record a person's request of the rollout in progress; the rollout acts on it."""
    from shiprail.deploy import progress

    engine = _engine()
    engine.env(environment)
    state = progress.request(
        engine.ledger, environment, progress.Request(what), engine.actor, reason
    )
    output.say(
        f"{what} of {state.release_id} in {environment} requested by {engine.actor}; the "
        "running deploy acts on it at its next analysis interval"
    )
    if as_json:
        output.emit_json(state.as_json())


@app.command()
def approve(
    environment: Annotated[str, typer.Argument(help="Environment the release may enter.")],
    release: Annotated[str, typer.Argument(help="Release id (see `shiprail status`).")],
    reason: Annotated[str, typer.Option("--reason", envvar="SHIPRAIL_REASON", help="Why.")],
) -> None:
    """Approve a release for promotion into a guarded environment (recorded in the ledger)."""

    def body() -> None:
        approval = _engine().approve(environment, release, reason)
        output.say(f"{approval.approver} approved {release} for {environment}")

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
    as_json: JsonOption = False,
) -> None:
    """Put an earlier release back in front, from its retained containers."""

    def body() -> None:
        engine = _engine()
        release = engine.rollback(environment, to, wait=wait, reason=reason)
        output.say(f"release {release.id} is live again in {environment}")
        _print_release(release, as_json)

    report(body)


@app.command()
def status(
    environment: Annotated[
        str | None, typer.Argument(help="One environment (default: all).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """What runs where: live release, image digest, replicas, URL, lock."""

    def body() -> None:
        rows = _engine().status(environment)
        if as_json:
            output.emit_json([row.as_json() for row in rows])
            return
        for row in rows:
            output.say(row.line(), prefix="")

    report(body)


@app.command()
def history(
    environment: Annotated[str, typer.Argument(help="Environment.")],
    as_json: JsonOption = False,
) -> None:
    """Every deploy, promotion and rollback of an environment, newest first."""

    def body() -> None:
        entries = _engine().history(environment)
        if as_json:
            output.emit_json([entry.as_json() for entry in entries])
            return
        for entry in entries:
            output.say(entry.line(), prefix="")

    report(body)


@app.command()
def prune(
    older_than: Annotated[
        str, typer.Option("--older-than", envvar="SHIPRAIL_OLDER_THAN", help="e.g. 7d, 12h.")
    ] = "7d",
    as_json: JsonOption = False,
) -> None:
    """Remove old release containers and images (never those the last N releases need)."""

    def body() -> None:
        from shiprail.deploy.retention import parse_duration

        removed = _engine().prune(parse_duration(older_than))
        if as_json:
            output.emit_json(removed.as_json())
        output.say(
            f"removed {len(removed.containers)} container(s), {len(removed.images)} image(s)"
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
        output.say(f"{'cleared' if cleared else 'no'} lock on {environment}")

    report(body)
