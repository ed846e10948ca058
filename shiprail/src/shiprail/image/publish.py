"""Push a local image to a registry, and name it by digest from then on.

Tags say where an image came from; the digest says what it is. The tags pushed are the full
git sha, ``<version>-<sha12>`` and, when that commit is tagged ``vX.Y.Z``, the version tag;
never ``latest``. Every tag must resolve to the same manifest digest, which is the image's
name for signing, attesting, verifying and deploying. ``publish`` then signs the digest and
attaches the provenance (and the SBOM when given) with cosign (``sign.py``), with a key or,
in a CI run with an OIDC identity, keyless (``cosign.KEYLESS``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shiprail import _subprocess
from shiprail._docker import docker_errors
from shiprail.errors import GateFailed, ShiprailError, ToolCrashed, UsageError
from shiprail.image import provenance, scan_record
from shiprail.image.build import DIRTY_SUFFIX, image_is_dirty
from shiprail.image.cosign import Keyless, Runner, Signer
from shiprail.image.registry import RegistryAccess
from shiprail.image.sbom import sbom_path, sha256_file
from shiprail.image.scan import Context, judge_record, refusal
from shiprail.image.sign import Signed, sign_and_attest
from shiprail.image.trivy import trivy_version

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
    #: sha256 of the CycloneDX SBOM attached (and kept under the image id)
    sbom_sha256: str


def release_tags(root: Path, version: str, commit: str, dirty: bool = False) -> tuple[str, ...]:
    """Full sha, ``<version>-<sha12>``, and every ``vX.Y.Z`` tag on ``commit``; an image built
    from a dirty tree gets ``<sha>-dirty`` and ``<version>-<sha12>-dirty`` only (a version tag
    names a commit, which a dirty image is not)."""
    if dirty:
        return (f"{commit}{DIRTY_SUFFIX}", f"{version}-{commit[:12]}{DIRTY_SUFFIX}")
    try:
        listed = _subprocess.run(["git", "tag", "--points-at", commit], cwd=root, timeout=30)
        semver = sorted(t for t in listed.stdout.split() if _SEMVER_TAG.match(t))
    except ShiprailError:
        semver = []
    return (commit, f"{version}-{commit[:12]}", *semver)


@dataclass(frozen=True)
class LocalImage:
    """What publishing needs of a local image, read from the engine once."""

    image_id: str
    commit: str
    version: str
    dirty: bool


def local_image(client: DockerClient, image: str, root: Path) -> LocalImage:
    """The image id, and the full commit, version and dirty flag its labels carry."""
    with docker_errors(f"no local image {image}", UsageError):
        found = client.images.get(image)
    labels = found.attrs["Config"].get("Labels") or {}
    revision, version = labels.get(REVISION_LABEL, ""), labels.get(VERSION_LABEL, "")
    if not revision or revision == "unknown" or not version:
        raise UsageError(
            f"{image} has no {REVISION_LABEL}/{VERSION_LABEL} labels",
            hint="build it with shiprail build image",
        )
    commit = provenance.full_commit(root, revision)
    return LocalImage(str(found.id), commit, version, image_is_dirty(labels))


def image_commit(client: DockerClient, image: str, root: Path) -> tuple[str, str]:
    """The full commit and the version an image was built from, read from its labels."""
    local = local_image(client, image, root)
    return local.commit, local.version


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
    key: Signer,
    *,
    root: Path,
    ctx: Context,
    repository: str = "workorders",
    sbom: Path | None = None,
    wheelhouse: Path | None = None,
    progress: Callable[[str], None] | None = None,
    today: dt.date | None = None,
    run: Runner | None = None,
) -> Published:
    """Refuse an image whose scan blocks; else push by digest with the release tags, sign the
    digest, attach provenance, SBOM and scan result.

    The scan is the one ``shiprail image scan`` kept for this image id, judged again with
    today's waivers: HIGH or CRITICAL findings (the gate's threshold) block publishing.
    Keyless signing without an OIDC identity is refused before anything is pushed. ``run``
    executes cosign (default: ``cosign.run``)."""
    say = progress or (lambda _message: None)
    if isinstance(key, Keyless):
        key.require_identity()
    local = local_image(client, image, root)
    commit, version, image_id, dirty = local.commit, local.version, local.image_id, local.dirty
    record = scan_record.load(ctx.sbom_dir(), image_id, image)
    reason = refusal(judge_record(ctx, record, today))
    if reason is not None:
        raise GateFailed(
            f"{image} is not published: {reason}",
            hint="fix it, or waive it in the waivers file with a reason and an expiry; then "
            f"shiprail image scan {image}",
        )
    sbom = sbom or sbom_path(ctx.sbom_dir(), image_id)
    tags = release_tags(root, version, commit, dirty)
    pushed = push(
        client, image, access, repository=repository, tags=tags, commit=commit, progress=say
    )
    say(f"pushed {pushed.reference} (tags: {', '.join(tags)})")
    facts = provenance.gather(client, image, root, commit=commit, wheelhouse=wheelhouse)
    say(f"signing {pushed.reference}; {key.note}")
    signed = sign_and_attest(
        pushed.reference,
        key,
        access,
        provenance=provenance.predicate(facts),
        sbom=sbom,
        scan=record.predicate(trivy_version()),
        run=run,
    )
    return Published(pushed, signed, sha256_file(sbom))
