"""`shiprail build ...`: the service image and its base (hermetic: no network inside)."""

from __future__ import annotations

import dataclasses
from typing import Annotated

import typer

from shiprail import output
from shiprail.cli._app import JsonOption, app, report

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
    from shiprail._docker import docker_client
    from shiprail.image.base import ensure_base_image

    tag = report(lambda: ensure_base_image(docker_client(), tuple(package or ())))
    output.emit(tag)


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
    as_json: JsonOption = False,
) -> None:
    """Build the workorders image from a host-built wheelhouse; print its reference."""
    from shiprail._docker import docker_client
    from shiprail.image.build import build_image

    built = report(
        lambda: build_image(
            docker_client(),
            repository=repository,
            offline=offline,
            find_links=find_links,
            progress=output.sayer("build"),
        )
    )
    if as_json:
        output.emit_json(dataclasses.asdict(built))
    else:
        output.emit(built.reference)
