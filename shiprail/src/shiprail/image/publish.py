"""Push a local image to a registry, and name it by digest from then on.

Tags say where an image came from; the digest says what it is. The tags pushed are the full
git sha, ``<version>-<sha12>`` and, when that commit is tagged ``vX.Y.Z``, the version tag;
never ``latest``. Every tag must resolve to the same manifest digest, which is the image's
name for signing, attesting, verifying and deploying. ``publish`` then signs the digest and
attaches the provenance (and the SBOM when given) with cosign (``sign.py``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shiprail import _subprocess
from shiprail._docker import docker_errors
from shiprail.errors import ShiprailError, ToolCrashed, UsageError
from shiprail.image import provenance
from shiprail.image.cosign import OFFLINE_NOTE, SigningKey
from shiprail.image.registry import RegistryAccess
from shiprail.image.sign import Signed, sign_and_attest

if TYPE_CHECKING:
    from shiprail._docker import DockerClient

REVISION_LABEL = "org.opencontainers.image.revision"
VERSION_LABEL = "org.opencontainers.image.version"
_SEMVER_TAG = re.compile(r"^v\d+\.\d+\.\d+$")
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


@dataclass(frozen=True)
class Pushed:
    repository: str  # <registry>/<repo>
    digest: str  # sha256:...
    tags: tuple[str, ...]
    commit: str

    @property
    def reference(self) -> str:
        return f"{self.repository}@{self.digest}"


@dataclass(frozen=True)
class Published:
    pushed: Pushed
    signed: Signed


def release_tags(root: Path, version: str, commit: str) -> tuple[str, ...]:
    """Full sha, ``<version>-<sha12>``, and every ``vX.Y.Z`` tag on ``commit``."""
    try:
        listed = _subprocess.run(["git", "tag", "--points-at", commit], cwd=root, timeout=30)
        semver = sorted(t for t in listed.stdout.split() if _SEMVER_TAG.match(t))
    except ShiprailError:
        semver = []
    return (commit, f"{version}-{commit[:12]}", *semver)


def image_commit(client: DockerClient, image: str, root: Path) -> tuple[str, str]:
    """The full commit and the version an image was built from, read from its labels."""
    with docker_errors(f"no local image {image}", UsageError):
        labels = client.images.get(image).attrs["Config"].get("Labels") or {}
    revision, version = labels.get(REVISION_LABEL, ""), labels.get(VERSION_LABEL, "")
    if not revision or revision == "unknown" or not version:
        raise UsageError(
            f"{image} has no {REVISION_LABEL}/{VERSION_LABEL} labels",
            hint="build it with shiprail build image",
        )
    return provenance.full_commit(root, revision), version


def push(
    client: DockerClient,
    image: str,
    access: RegistryAccess,
    *,
    repository: str,
    tags: tuple[str, ...],
    commit: str,
    progress: Callable[[str], None] | None = None,
) -> Pushed:
    """Tag ``image`` for the registry and push every tag; all must share one digest."""
    say = progress or (lambda _message: None)
    target = access.reference(repository)
    digests = set()
    with docker_errors(f"could not push {image} to {target}"):
        local = client.images.get(image)
        for tag in tags:
            local.tag(target, tag=tag)
            say(f"pushing {target}:{tag}")
            lines = client.images.push(
                target, tag=tag, auth_config=access.auth_config(), stream=True, decode=True
            )
            digests.add(_pushed_digest(lines, f"{target}:{tag}"))
    if len(digests) != 1:
        raise ToolCrashed(f"the tags of {image} resolved to several digests: {sorted(digests)}")
    return Pushed(target, digests.pop(), tags, commit)


def _pushed_digest(lines: Any, reference: str) -> str:
    """The manifest digest the engine reports at the end of a push (an error raises)."""
    digest = ""
    for line in lines:
        if "error" in line:
            raise ToolCrashed(f"push of {reference} failed: {line['error']}")
        aux = line.get("aux") or {}
        if isinstance(aux, dict) and _DIGEST.fullmatch(str(aux.get("Digest", ""))):
            digest = str(aux["Digest"])
    if not digest:
        raise ToolCrashed(f"push of {reference} reported no digest")
    return digest


def publish(
    client: DockerClient,
    image: str,
    access: RegistryAccess,
    key: SigningKey,
    *,
    root: Path,
    repository: str = "workorders",
    sbom: Path | None = None,
    wheelhouse: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> Published:
    """Push by digest with the release tags, sign the digest, attach provenance (and SBOM)."""
    say = progress or (lambda _message: None)
    commit, version = image_commit(client, image, root)
    tags = release_tags(root, version, commit)
    pushed = push(
        client, image, access, repository=repository, tags=tags, commit=commit, progress=say
    )
    say(f"pushed {pushed.reference} (tags: {', '.join(tags)})")
    facts = provenance.gather(client, image, root, commit=commit, wheelhouse=wheelhouse)
    say(f"signing {pushed.reference}; {OFFLINE_NOTE}")
    signed = sign_and_attest(
        pushed.reference, key, access, provenance=provenance.predicate(facts), sbom=sbom
    )
    return Published(pushed, signed)
