"""Build the service image: wheels on the host, no network inside the build.

1. Download the pinned runtime wheels (``app/requirements.lock``) and build the service's
   own wheel into a wheelhouse on the host (pip's cache, or ``--find-links`` a mirror).
2. Stage a small build context: the Dockerfile and the wheelhouse, nothing else.
3. Build with the Docker Engine with ``network_mode=none``; the base is the upstream slim
   Python image when it is present or can be pulled, else a debootstrap-made base.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from shiprail import _subprocess
from shiprail._docker import docker_errors
from shiprail.errors import ShiprailError, ToolCrashed
from shiprail.image.base import ensure_base_image, image_exists
from shiprail.paths import repo_root

if TYPE_CHECKING:
    from shiprail._docker import DockerClient

UPSTREAM_BASE = "python:3.11-slim-bookworm"
#: Building the image (install from wheels) takes well under this on two cores.
BUILD_TIMEOUT_SECONDS = 900
WHEEL_TIMEOUT_SECONDS = 600


@dataclass(frozen=True)
class BuiltImage:
    reference: str
    image_id: str
    version: str
    git_sha: str
    base: str


def git_sha(root: Path) -> str:
    try:
        result = _subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=root, timeout=30)
    except ShiprailError:
        return "unknown"
    return result.stdout.strip() or "unknown"


def service_version(app_dir: Path) -> str:
    import tomllib

    with (app_dir / "pyproject.toml").open("rb") as handle:
        return str(tomllib.load(handle)["project"]["version"])


def pick_base(client: DockerClient, offline: bool) -> str:
    """The upstream slim image when available, else a Debian-made base (built once, cached)."""
    if image_exists(client, UPSTREAM_BASE):
        return UPSTREAM_BASE
    if not offline:
        try:
            with docker_errors(f"docker pull of {UPSTREAM_BASE} failed"):
                client.images.pull(UPSTREAM_BASE)
            return UPSTREAM_BASE
        except ToolCrashed:
            pass  # no registry reachable: build the base from Debian packages
    return ensure_base_image(client)


def build_wheelhouse(app_dir: Path, wheelhouse: Path, find_links: str | None = None) -> None:
    """Runtime wheels for the image's Python (3.11, manylinux x86_64) plus the service wheel."""
    if wheelhouse.exists():
        shutil.rmtree(wheelhouse)
    wheelhouse.mkdir(parents=True)
    source = ["--no-index", "--find-links", find_links] if find_links else []
    pip = [sys.executable, "-m", "pip"]
    _subprocess.run(
        [
            *pip,
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary=:all:",
            "--python-version",
            "3.11",
            "--platform",
            "manylinux2014_x86_64",
            "--platform",
            "manylinux_2_28_x86_64",
            "--platform",
            "manylinux_2_34_x86_64",
            "--implementation",
            "cp",
            "--dest",
            str(wheelhouse),
            "--requirement",
            str(app_dir / "requirements.lock"),
            *source,
        ],
        timeout=WHEEL_TIMEOUT_SECONDS,
        install_hint="python3 -m ensurepip",
    )
    _subprocess.run(
        [
            *pip,
            "wheel",
            "--quiet",
            "--no-deps",
            "--wheel-dir",
            str(wheelhouse),
            str(app_dir),
            *source,
        ],
        timeout=WHEEL_TIMEOUT_SECONDS,
    )


def build_image(
    client: DockerClient,
    *,
    root: Path | None = None,
    repository: str = "workorders",
    offline: bool = True,
    find_links: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> BuiltImage:
    """Build the workorders image and return its reference (``repository:version-gitsha``)."""
    root = root or repo_root()
    app_dir = root / "app"
    version = service_version(app_dir)
    sha = git_sha(root)
    reference = f"{repository}:{version}-{sha}"
    say = progress or (lambda _message: None)

    say(f"choosing the base image (offline={offline})")
    base = pick_base(client, offline)
    context = root / "build" / "image-context"
    if context.exists():
        shutil.rmtree(context)
    context.mkdir(parents=True)
    say("building the wheelhouse on the host")
    build_wheelhouse(app_dir, context / "wheelhouse", find_links)
    shutil.copy2(app_dir / "Dockerfile", context / "Dockerfile")
    build_time = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    say(f"building {reference} FROM {base} (no network inside the build)")
    with docker_errors(f"docker build of {reference} failed"):
        image, _logs = client.images.build(
            path=str(context),
            tag=reference,
            buildargs={
                "BASE_IMAGE": base,
                "VERSION": version,
                "GIT_SHA": sha,
                "BUILD_TIME": build_time,
            },
            network_mode="none",
            rm=True,
            forcerm=True,
            timeout=BUILD_TIMEOUT_SECONDS,
        )
    return BuiltImage(reference, str(image.id), version, sha, base)
