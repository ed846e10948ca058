"""A Python base image made from Debian packages, for sites where no registry can be reached.

``debootstrap`` builds a minimal Debian root filesystem from the Debian archive (or a local
mirror), ``docker import`` turns it into an image. The tag carries a hash of the recipe, so
the image is rebuilt only when the recipe (suite, packages, mirror) changes.

Two kinds of base come from one recipe type:

- the **full** base (``python3``, ``python3-venv``, ``ca-certificates``, ``tzdata``, plus any
  extra package): what the monitoring images, the nginx edge and the service's *build* stage
  start from. It keeps apt, dpkg's helpers and the ensurepip wheels, because builds on it
  install things.
- the **runtime** base (:func:`ensure_runtime_image`): what the service's final stage starts
  from. Only Python and its libraries are kept: packages the service never runs are purged
  with dpkg (so ``/var/lib/dpkg/status`` still tells SBOM tools the truth), then docs,
  manuals and translations are deleted (copyright files stay: the licences travel with the
  binaries). It is about half the size of the full base.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from shiprail import _subprocess
from shiprail._docker import docker_errors, find_image
from shiprail.errors import ToolCrashed
from shiprail.paths import repo_root
from shiprail.settings import get_settings

if TYPE_CHECKING:
    from shiprail._docker import DockerClient

BASE_REPOSITORY = "shiprail/python-base"
DEFAULT_SUITE = "bookworm"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
BASE_PACKAGES = ("python3", "python3-venv", "ca-certificates", "tzdata")
#: What the runtime base is made from: the interpreter and the CA bundle, nothing to install with.
RUNTIME_PACKAGES = ("python3", "ca-certificates")
#: Packages of the minimal Debian system (or pulled in by the above) that a Python service
#: never runs: the package manager and its crypto stack, perl and the maintainer-script
#: helpers written in it, util-linux and filesystem tools, the openssl CLI (libssl stays),
#: time-zone data (the service works in UTC). Purged in this order, essential or not,
#: dependencies ignored:
#: nothing will ever be installed on this base, and nothing left links to them (a test runs
#: ``ldd`` over every binary of the service image). ``libstdc++6`` stays although apt was
#: its only Debian user here: protobuf's compiled extension links it.
RUNTIME_PURGED = (
    "util-linux",
    "mount",
    "bsdutils",
    "apt",
    "libapt-pkg6.0",
    "gpgv",
    "debian-archive-keyring",
    "libgnutls30",
    "libp11-kit0",
    "libtasn1-6",
    "libnettle8",
    "libhogweed6",
    "libidn2-0",
    "libunistring2",
    "e2fsprogs",
    "libext2fs2",
    "libss2",
    "logsave",
    "adduser",
    "openssl",
    "tzdata",
    "init-system-helpers",
    "sysvinit-utils",
    "ncurses-bin",
    "debconf",
    "perl-base",
)
#: Deleted from the runtime base, beyond :data:`PRUNED_PATHS`: translations, glibc's iconv
#: modules (Python's codecs do not use them), lintian overrides, the text of ``help()``
#: topics and CPython's regression-test support package.
RUNTIME_PRUNED_PATHS = (
    "usr/share/locale",
    "usr/share/info",
    "usr/share/lintian",
    "usr/lib/x86_64-linux-gnu/gconv",
    "usr/lib/python3.11/pydoc_data",
    "usr/lib/python3.11/test",
    "var/log",
)
#: Bump when the way the root filesystem is prepared changes (forces a rebuild).
RECIPE_REVISION = 1
#: Directories of the root filesystem that the kernel or the container runtime fills.
VIRTUAL_DIRS = ("proc", "sys")
UMOUNT_TIMEOUT_SECONDS = 30
#: debootstrap downloads and unpacks a few hundred packages.
DEBOOTSTRAP_TIMEOUT_SECONDS = 1200
#: Paths emptied in every base: caches and docs an image does not need.
PRUNED_PATHS = ("var/cache/apt/archives", "var/lib/apt/lists", "usr/share/doc", "usr/share/man")
#: Runtime bases are tagged ``shiprail/python-base:<suite>-runtime-<digest>``.
RUNTIME_FLAVOUR = "runtime"


@dataclass(frozen=True)
class BaseRecipe:
    suite: str = DEFAULT_SUITE
    mirror: str = DEFAULT_MIRROR
    packages: tuple[str, ...] = BASE_PACKAGES
    #: Purge and prune down to what a Python service runs (see the module docstring).
    runtime: bool = False

    @property
    def digest(self) -> str:
        recipe: dict[str, object] = {
            "suite": self.suite,
            "mirror": self.mirror,
            "packages": sorted(set(self.packages)),
            "revision": RECIPE_REVISION,
        }
        if self.runtime:  # full bases keep the digest (and tag) they had before
            recipe["purged"] = list(RUNTIME_PURGED)
            recipe["pruned"] = list(RUNTIME_PRUNED_PATHS)
        return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:12]

    @property
    def tag(self) -> str:
        flavour = f"{RUNTIME_FLAVOUR}-" if self.runtime else ""
        return f"{BASE_REPOSITORY}:{self.suite}-{flavour}{self.digest}"


def recipe_for(extra_packages: tuple[str, ...] = ()) -> BaseRecipe:
    mirror = get_settings().debian_mirror or DEFAULT_MIRROR
    return BaseRecipe(mirror=mirror, packages=tuple(sorted({*BASE_PACKAGES, *extra_packages})))


def runtime_recipe() -> BaseRecipe:
    mirror = get_settings().debian_mirror or DEFAULT_MIRROR
    return BaseRecipe(mirror=mirror, packages=RUNTIME_PACKAGES, runtime=True)


def image_exists(client: DockerClient, reference: str) -> bool:
    with docker_errors(f"Docker Engine error reading image {reference}"):
        return find_image(client, reference) is not None


def _debootstrap(recipe: BaseRecipe, rootfs: Path) -> None:
    _subprocess.run(
        [
            "debootstrap",
            "--variant=minbase",
            f"--include={','.join(recipe.packages)}",
            recipe.suite,
            str(rootfs),
            recipe.mirror,
        ],
        timeout=DEBOOTSTRAP_TIMEOUT_SECONDS,
        install_hint="apt-get install -y debootstrap",
    )
    _unmount_leftovers(rootfs)
    notices = None
    if recipe.runtime:
        _purge_for_runtime(rootfs)
        notices = _set_aside_copyright_notices(rootfs)
    pruned = (*PRUNED_PATHS, *RUNTIME_PRUNED_PATHS) if recipe.runtime else PRUNED_PATHS
    for relative in pruned:
        target = rootfs / relative
        if target.is_dir():
            shutil.rmtree(target)
            target.mkdir(parents=True)
    if notices is not None:
        shutil.copytree(notices, rootfs / "usr/share/doc", symlinks=True, dirs_exist_ok=True)


def _unmount_leftovers(rootfs: Path) -> None:
    """Detach what debootstrap mounted in the new root and could not unmount itself.

    debootstrap mounts ``proc`` (and ``sys``) inside the target and unmounts them at exit;
    when another mount namespace holds a copy (a container starting at that moment, on a
    host with shared mount propagation), its ``umount`` fails with "target is busy" and the
    host's ``/proc`` would be archived into the image. A lazy unmount always succeeds."""
    mounts = Path("/proc/self/mounts").read_text().splitlines()
    inside = [m.split()[1] for m in mounts if len(m.split()) > 1]
    prefix = f"{rootfs.resolve()}/"
    for mountpoint in sorted((m for m in inside if m.startswith(prefix)), reverse=True):
        _subprocess.run(["umount", "--lazy", mountpoint], timeout=UMOUNT_TIMEOUT_SECONDS)


def _without_mounted_content(member: tarfile.TarInfo) -> tarfile.TarInfo | None:
    """Archive ``proc`` and ``sys`` as empty directories, whatever is mounted on them."""
    parts = member.name.removeprefix("./").split("/")
    return None if len(parts) > 1 and parts[0] in VIRTUAL_DIRS else member


def _purge_for_runtime(rootfs: Path) -> None:
    """Purge :data:`RUNTIME_PURGED` inside the new root with dpkg, so its status database
    (what Trivy and SBOM tools read) lists only what is really there."""
    _subprocess.run(
        [
            *("chroot", str(rootfs), "dpkg", "--purge"),
            *("--force-remove-essential", "--force-depends", *RUNTIME_PURGED),
        ],
        timeout=DEBOOTSTRAP_TIMEOUT_SECONDS,
        install_hint="run as root (debootstrap and chroot need it)",
    )


def _set_aside_copyright_notices(rootfs: Path) -> Path:
    """Copy each package's ``usr/share/doc/<package>/copyright`` out of the root, to be put
    back after the docs are pruned: the licences travel with the binaries, the docs do not."""
    kept = rootfs.parent / "copyright-notices"
    for notice in (rootfs / "usr/share/doc").glob("*/copyright"):
        (kept / notice.parent.name).mkdir(parents=True, exist_ok=True)
        shutil.copy2(notice, kept / notice.parent.name / "copyright", follow_symlinks=False)
    kept.mkdir(exist_ok=True)
    return kept


def ensure_runtime_image(client: DockerClient) -> str:
    """Return the tag of the runtime base (the final stage of the service image), building
    it if needed."""
    return _ensure(client, runtime_recipe())


def ensure_base_image(client: DockerClient, extra_packages: tuple[str, ...] = ()) -> str:
    """Return the tag of a base image with ``extra_packages``, building it if needed."""
    return _ensure(client, recipe_for(extra_packages))


def _ensure(client: DockerClient, recipe: BaseRecipe) -> str:
    if image_exists(client, recipe.tag):
        return recipe.tag
    work = repo_root() / ".cache" / "base-image"
    work.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=work) as scratch:
        rootfs = Path(scratch) / "rootfs"
        _debootstrap(recipe, rootfs)
        archive = Path(scratch) / "rootfs.tar"
        with tarfile.open(archive, "w") as tar:
            tar.add(rootfs, arcname=".", filter=_without_mounted_content)
        repository, tag = recipe.tag.split(":", 1)
        changes = [
            "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "ENV LANG=C.UTF-8",
            'CMD ["/bin/bash"]',
        ]
        with docker_errors(f"docker import of {recipe.tag} failed"):
            result = client.api.import_image_from_file(
                str(archive), repository=repository, tag=tag, changes=changes
            )
        if not image_exists(client, recipe.tag):
            raise ToolCrashed(f"docker import did not create {recipe.tag}: {result}")
    return recipe.tag
