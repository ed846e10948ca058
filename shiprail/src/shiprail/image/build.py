"""Build the service image: wheels on the host, no network inside the build.

1. Download the pinned runtime wheels (``app/requirements.lock``) and build the service's
   own wheel into a wheelhouse on the host (pip's cache, or ``--find-links`` a mirror).
2. Stage a small build context: the Dockerfile and the wheelhouse, nothing else.
3. Build with the Docker Engine with ``network_mode=none``; the bases are the upstream slim
   Python image when it is present or can be pulled, else debootstrap-made ones: the shared
   base (plus binutils) for the build stages, the slim runtime base for the final stage.

The layers are ordered for the build cache (see app/Dockerfile): a change to the service's
code rebuilds only the service's own layer, and the dependency layers keep their digests.

An image is named after a commit (``repository:version-gitsha``, the revision label), so it
must be built from that commit: a working tree with uncommitted changes is refused unless the
caller allows it, and then the image carries ``io.shiprail.dirty=true`` so the provenance and
everyone reading its labels know it is not what the commit says.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from shiprail import _subprocess
from shiprail._docker import docker_errors
from shiprail.errors import ShiprailError, ToolCrashed, ToolMissing, UsageError
from shiprail.image.base import ensure_base_image, ensure_runtime_image, image_exists
from shiprail.paths import repo_root

if TYPE_CHECKING:
    from shiprail._docker import DockerClient

UPSTREAM_BASE = "python:3.11-slim-bookworm"
#: Added to the shared Debian base for the build stages: ``strip`` for the wheels' debug symbols.
BUILD_STAGE_PACKAGES = ("binutils",)
#: The image's Python: wheels are chosen for it, not for the host's.
DOWNLOAD_PLATFORM = (
    "--only-binary=:all:",
    *("--python-version", "3.11", "--implementation", "cp"),
    *("--platform", "manylinux2014_x86_64", "--platform", "manylinux_2_28_x86_64"),
    *("--platform", "manylinux_2_34_x86_64"),
)
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
    #: The base of the build stages (``base`` is the final stage's, the one the image runs on).
    build_base: str | None = None


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


def pick_bases(client: DockerClient, offline: bool) -> tuple[str, str]:
    """The bases of the build stages and of the final stage: the upstream slim image for
    both when available, else Debian-made ones (built once, cached): the shared base plus
    binutils to install with, the slim runtime base to run on."""
    if image_exists(client, UPSTREAM_BASE):
        return UPSTREAM_BASE, UPSTREAM_BASE
    if not offline:
        try:
            with docker_errors(f"docker pull of {UPSTREAM_BASE} failed"):
                client.images.pull(UPSTREAM_BASE)
            return UPSTREAM_BASE, UPSTREAM_BASE
        except ToolCrashed:
            pass  # no registry reachable: build the bases from Debian packages
    return ensure_base_image(client, BUILD_STAGE_PACKAGES), ensure_runtime_image(client)


def build_wheelhouse(
    app_dir: Path, wheelhouse: Path, find_links: str | None = None, cache: Path | None = None
) -> None:
    """``wheelhouse/deps``: the runtime wheels of ``app/requirements.lock`` for the image's
    Python (3.11, manylinux x86_64) and the lock itself; ``wheelhouse/service``: the
    service's own wheel. Two folders, so the image's dependency layer depends on the lock
    alone (see app/Dockerfile).

    The dependency wheels are downloaded once per lock into ``cache`` and copied from
    there: asking the index again for 40 pinned wheels costs seconds on every build."""
    if wheelhouse.exists():
        shutil.rmtree(wheelhouse)
    cache = cache or app_dir.parent / ".cache"
    lock = app_dir / "requirements.lock"
    shutil.copytree(_cached_wheels(lock, cache / "wheelhouse", find_links), wheelhouse / "deps")
    shutil.copy2(app_dir / "requirements.lock", wheelhouse / "deps" / "requirements.txt")
    (wheelhouse / "service").mkdir(parents=True)
    build_service_wheel(app_dir, wheelhouse / "service", cache / "wheel-build", find_links)


def _cached_wheels(lock: Path, cache: Path, find_links: str | None) -> Path:
    key = hashlib.sha256(lock.read_bytes() + repr(DOWNLOAD_PLATFORM).encode()).hexdigest()[:16]
    target = cache / f"deps-{key}"
    if target.is_dir():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="deps-", dir=cache))
    source = ["--no-index", "--find-links", find_links] if find_links else []
    try:
        _subprocess.run(
            [
                *(sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"),
                *DOWNLOAD_PLATFORM,
                *("--dest", str(scratch), "--requirement", str(lock)),
                *source,
            ],
            timeout=WHEEL_TIMEOUT_SECONDS,
            install_hint="python3 -m ensurepip",
        )
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)  # never leave half a wheelhouse behind
        raise
    try:
        scratch.rename(target)  # atomic: a concurrent build sees all the wheels or none
    except OSError:
        shutil.rmtree(scratch)  # another build got there first: its wheels are the same
    return target


def build_service_wheel(
    app_dir: Path, dest: Path, env_cache: Path, find_links: str | None = None
) -> Path:
    """The service's wheel, built by PyPA ``build`` in a build environment kept in
    ``env_cache`` (one per ``build-system.requires``): an isolated build would ask the
    index for the backend on every run, which is most of the time a code-only build takes."""
    import tomllib

    with (app_dir / "pyproject.toml").open("rb") as handle:
        requires = list(tomllib.load(handle)["build-system"]["requires"])
    key = hashlib.sha256(repr((requires, sys.version)).encode()).hexdigest()[:16]
    env = env_cache / f"env-{key}"
    if not (env / "bin" / "python").exists():
        env_cache.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix="env-", dir=env_cache))
        source = ["--no-index", "--find-links", find_links] if find_links else []
        _subprocess.run([sys.executable, "-m", "venv", str(scratch)], timeout=WHEEL_TIMEOUT_SECONDS)
        _subprocess.run(
            [
                *(str(scratch / "bin" / "python"), "-m", "pip", "install", "--quiet"),
                *(*requires, "build", *source),
            ],
            timeout=WHEEL_TIMEOUT_SECONDS,
        )
        try:
            scratch.rename(env)  # `python -m` runs from a moved venv: it finds itself
        except OSError:
            shutil.rmtree(scratch)  # a concurrent build made the same environment
    _subprocess.run(
        [
            *(str(env / "bin" / "python"), "-m", "build", "--wheel", "--no-isolation"),
            *("--outdir", str(dest), str(app_dir)),
        ],
        timeout=WHEEL_TIMEOUT_SECONDS,
    )
    (wheel,) = dest.glob("*.whl")
    return wheel


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
    nocache: bool = False,
) -> BuiltImage:
    """Build the workorders image and return its reference (``repository:version-gitsha``).

    ``nocache`` rebuilds every step (a cold build, as ``make bench-build`` measures it).

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

    say(f"choosing the base images (offline={offline})")
    build_base, base = pick_bases(client, offline)
    context = root / "build" / "image-context"
    if context.exists():
        shutil.rmtree(context)
    context.mkdir(parents=True)
    say("building the wheelhouse on the host")
    build_wheelhouse(app_dir, context / "wheelhouse", find_links, cache=root / ".cache")
    shutil.copy2(app_dir / "Dockerfile", context / "Dockerfile")
    build_time = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    say(f"building {reference} FROM {base} (no network inside the build)")
    with docker_errors(f"docker build of {reference} failed"):
        base_id = str(client.images.get(base).id)
        image, _logs = client.images.build(
            path=str(context),
            tag=reference,
            buildargs={
                "BASE_IMAGE": base,
                "BASE_DIGEST": base_id,
                "BUILD_BASE_IMAGE": build_base,
                "VERSION": version,
                "GIT_SHA": sha,
                "BUILD_TIME": build_time,
            },
            labels={DIRTY_LABEL: "true" if dirty else "false"},
            network_mode="none",
            rm=True,
            forcerm=True,
            nocache=nocache,
            timeout=BUILD_TIMEOUT_SECONDS,
        )
    say(f"built {reference}")
    return BuiltImage(reference, str(image.id), version, sha, base, dirty, build_base)
