"""A Python base image made from Debian packages, for sites where no registry can be reached.

``debootstrap`` builds a minimal Debian root filesystem from the Debian archive (or a local
mirror), ``docker import`` turns it into an image. The tag carries a hash of the recipe, so
the image is rebuilt only when the recipe (suite, packages, mirror) changes.
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
#: Bump when the way the root filesystem is prepared changes (forces a rebuild).
RECIPE_REVISION = 1
#: debootstrap downloads and unpacks a few hundred packages.
DEBOOTSTRAP_TIMEOUT_SECONDS = 1200
#: Paths removed from the root filesystem: caches and docs an image does not need.
PRUNED_PATHS = ("var/cache/apt/archives", "var/lib/apt/lists", "usr/share/doc", "usr/share/man")


@dataclass(frozen=True)
class BaseRecipe:
    suite: str = DEFAULT_SUITE
    mirror: str = DEFAULT_MIRROR
    packages: tuple[str, ...] = BASE_PACKAGES

    @property
    def digest(self) -> str:
        recipe = {
            "suite": self.suite,
            "mirror": self.mirror,
            "packages": sorted(set(self.packages)),
            "revision": RECIPE_REVISION,
        }
        return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:12]

    @property
    def tag(self) -> str:
        return f"{BASE_REPOSITORY}:{self.suite}-{self.digest}"


def recipe_for(extra_packages: tuple[str, ...] = ()) -> BaseRecipe:
    mirror = get_settings().debian_mirror or DEFAULT_MIRROR
    return BaseRecipe(mirror=mirror, packages=tuple(sorted({*BASE_PACKAGES, *extra_packages})))


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
    for relative in PRUNED_PATHS:
        target = rootfs / relative
        if target.is_dir():
            shutil.rmtree(target)
            target.mkdir(parents=True)


def ensure_base_image(client: DockerClient, extra_packages: tuple[str, ...] = ()) -> str:
    """Return the tag of a base image with ``extra_packages``, building it if needed."""
    recipe = recipe_for(extra_packages)
    if image_exists(client, recipe.tag):
        return recipe.tag
    work = repo_root() / ".cache" / "base-image"
    work.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=work) as scratch:
        rootfs = Path(scratch) / "rootfs"
        _debootstrap(recipe, rootfs)
        archive = Path(scratch) / "rootfs.tar"
        with tarfile.open(archive, "w") as tar:
            tar.add(rootfs, arcname=".")
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
