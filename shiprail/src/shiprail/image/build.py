"""Build the service image: wheels on the host, no network inside the build.

1. Download the pinned runtime wheels (``app/requirements.lock``) and build the service's
   own wheel into a wheelhouse on the host (pip's cache, or ``--find-links`` a mirror).
2. Stage a small build context: the Dockerfile and the wheelhouse, nothing else.
3. Build with the Docker Engine with ``network_mode=none``; the base is the upstream slim
   Python image when it is present or can be pulled, else a debootstrap-made base.

An image is named after a commit (``repository:version-gitsha``, the revision label), so it
must be built from that commit: a working tree with uncommitted changes is refused unless the
caller allows it, and then the image carries ``io.shiprail.dirty=true`` so the provenance and
everyone reading its labels know it is not what the commit says.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from shiprail import _subprocess
from shiprail._docker import docker_errors
from shiprail.errors import ShiprailError, ToolCrashed, ToolMissing, UsageError
from shiprail.image.base import ensure_base_image, image_exists
from shiprail.paths import repo_root

if TYPE_CHECKING:
    from shiprail._docker import DockerClient

UPSTREAM_BASE = "python:3.11-slim-bookworm"
#: Building the image (install from wheels) takes well under this on two cores.
BUILD_TIMEOUT_SECONDS = 900
WHEEL_TIMEOUT_SECONDS = 600
#: Image label saying whether the image was built from a tree with uncommitted changes
#: ("true") or from exactly its commit ("false"); every image shiprail builds carries it.
DIRTY_LABEL = "io.shiprail.dirty"
GIT_TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class BuiltImage:
    reference: str
    image_id: str
    version: str
    git_sha: str
    base: str
    #: Built from a working tree with uncommitted changes (``--allow-dirty``).
    dirty: bool = False


def git_sha(root: Path) -> str:
    try:
        result = _subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"], cwd=root, timeout=GIT_TIMEOUT_SECONDS
        )
    except ShiprailError:
        return "unknown"
    return result.stdout.strip() or "unknown"


def uncommitted_paths(root: Path) -> list[str]:
    """The paths ``git status`` reports as changed in ``root``'s working tree.

    Untracked files count: they can reach the image (the service wheel is built from the
    tree), so an image built with them is not the commit it is named after. Ignored files
    do not (the build's own ``build/`` output, caches, virtual environments). A directory
    that is not in a git work tree, or a host without git, has no commit to differ from:
    nothing is reported, and the image's revision label is then "unknown" (:func:`git_sha`).
    A git that fails on a real work tree raises: a refusal must not turn into a pass.
    """
    try:
        inside = _subprocess.run(
            ["git", "rev-parse", "--is-inside-work-tree"],
            cwd=root,
            timeout=GIT_TIMEOUT_SECONDS,
            ok_codes=None,
        )
    except ToolMissing:
        return []
    if inside.returncode != 0 or inside.stdout.strip() != "true":
        return []
    status = _subprocess.run(
        # No optional locks: a status must not race the user's own git over index.lock.
        ["git", "--no-optional-locks", "status", "--porcelain=v1", "-z", "--untracked-files=all"],
        cwd=root,
        timeout=GIT_TIMEOUT_SECONDS,
    )
    paths: list[str] = []
    fields = iter(status.stdout.split("\0"))
    for entry in fields:
        if not entry:
            continue
        paths.append(entry[3:])
        if {"R", "C"} & set(entry[:2]):  # a rename or copy: its source is the next field
            next(fields, None)
    return paths


def working_tree_dirty(root: Path) -> bool:
    """Whether ``root``'s working tree differs from its commit (untracked files included,
    ignored ones not; not a git work tree: False). See :func:`uncommitted_paths`."""
    return bool(uncommitted_paths(root))


def image_is_dirty(labels: Mapping[str, str] | None) -> bool:
    """Whether an image's labels say it was built from uncommitted changes.

    A missing label reads as clean: images built before the label existed cannot say, and
    flagging every one of them would bury the real signal. A label that is present but is
    not "false" reads as dirty: only an explicit clean claim counts as clean.
    """
    value = (labels or {}).get(DIRTY_LABEL)
    return value is not None and str(value).strip().lower() != "false"


def refuse_dirty_tree(root: Path, allow_dirty: bool) -> bool:
    """Whether the tree is dirty; raise :class:`UsageError` when it is and that is not allowed.

    An image is named and labelled after its commit, and provenance names that commit: an
    image from uncommitted changes would claim a source it was not built from.
    """
    paths = uncommitted_paths(root)
    if paths and not allow_dirty:
        raise UsageError(
            f"the working tree has uncommitted changes ({len(paths)} "
            f"{'file' if len(paths) == 1 else 'files'}, e.g. {paths[0]}): "
            "an image must come from a commit",
            hint="commit or stash them, or pass --allow-dirty (the image is then labelled dirty)",
        )
    return bool(paths)


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


#: Appended to the tags of an image built from uncommitted changes, so it never takes the
#: tag of the clean build of the same commit.
DIRTY_SUFFIX = "-dirty"


def image_reference(repository: str, version: str, sha: str, dirty: bool) -> str:
    """``repository:version-sha12``, with ``-dirty`` for a build from a dirty tree."""
    return f"{repository}:{version}-{sha}{DIRTY_SUFFIX if dirty else ''}"


def build_image(
    client: DockerClient,
    *,
    root: Path | None = None,
    repository: str = "workorders",
    offline: bool = True,
    find_links: str | None = None,
    progress: Callable[[str], None] | None = None,
    allow_dirty: bool = False,
) -> BuiltImage:
    """Build the workorders image and return its reference (``repository:version-gitsha``).

    A dirty working tree is refused before any Docker work unless ``allow_dirty``; the image
    then carries ``io.shiprail.dirty=true`` (``false`` otherwise, so the label is always set).
    """
    root = root or repo_root()
    dirty = refuse_dirty_tree(root, allow_dirty)
    app_dir = root / "app"
    version = service_version(app_dir)
    sha = git_sha(root)
    reference = image_reference(repository, version, sha, dirty)
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
            labels={DIRTY_LABEL: "true" if dirty else "false"},
            network_mode="none",
            rm=True,
            forcerm=True,
            timeout=BUILD_TIMEOUT_SECONDS,
        )
    return BuiltImage(reference, str(image.id), version, sha, base, dirty)
