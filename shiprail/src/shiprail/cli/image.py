"""`shiprail build ...`: the service image and its base (hermetic: no network inside)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Annotated

import typer

from shiprail import output
from shiprail.cli._app import JsonOption, app, report

if TYPE_CHECKING:
    from shiprail.image.build import BuiltImage

build_app = typer.Typer(help="Build the service image (hermetic: no network inside the build).")
app.add_typer(build_app, name="build")


@build_app.command("base-image")
def build_base_image(
    package: Annotated[
        list[str] | None,
        typer.Option("--package", envvar="SHIPRAIL_PACKAGE", help="Extra Debian package."),
    ] = None,
    runtime: Annotated[
        bool,
        typer.Option(
            "--runtime", help="The slim runtime base the service image runs on (no --package)."
        ),
    ] = False,
) -> None:
    """Build (or reuse) the Debian-made Python base image and print its tag."""
    from shiprail._docker import docker_client
    from shiprail.errors import UsageError
    from shiprail.image.base import ensure_base_image, ensure_runtime_image

    def body() -> str:
        if runtime and package:
            raise UsageError("--runtime takes no --package: the runtime base is fixed")
        if runtime:
            return ensure_runtime_image(docker_client())
        return ensure_base_image(docker_client(), tuple(package or ()))

    output.emit(report(body))


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
    allow_dirty: Annotated[
        bool,
        typer.Option(
            "--allow-dirty",
            envvar="SHIPRAIL_ALLOW_DIRTY",
            help="Build from a working tree with uncommitted changes "
            "(the image is labelled dirty).",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Build the workorders image from a host-built wheelhouse; print its reference.

    A working tree with uncommitted changes is refused (exit 2) unless --allow-dirty; the
    refusal comes before connecting to Docker Engine, so it does not depend on the engine.
    """
    from shiprail._docker import docker_client
    from shiprail.image.build import DIRTY_LABEL, build_image, refuse_dirty_tree
    from shiprail.paths import repo_root

    def build() -> BuiltImage:
        root = repo_root()
        refuse_dirty_tree(root, allow_dirty)
        return build_image(
            docker_client(),
            root=root,
            repository=repository,
            offline=offline,
            find_links=find_links,
            progress=output.sayer("build"),
            allow_dirty=allow_dirty,
        )

    built = report(build)
    if built.dirty:
        output.say(
            f"warning: {built.reference} was built from uncommitted changes and is labelled "
            f"{DIRTY_LABEL}=true (its provenance will record it as dirty)",
            prefix="build",
        )
    if as_json:
        output.emit_json(dataclasses.asdict(built))
    else:
        output.emit(built.reference)
