"""SLSA v1 provenance for a published image: what was built, from which source, with what.

The predicate (https://slsa.dev/provenance/v1) is attached by ``cosign attest --type
slsaprovenance1``, which wraps it in an in-toto statement whose subject is the image digest.
It names:

- ``buildDefinition.externalParameters.source``: the source repository and the full commit;
  ``shiprail verify`` checks both against the repository and commit being shipped; and
  ``dirty``, read from the image's ``io.shiprail.dirty`` label: true when the image was built
  from uncommitted changes (``--allow-dirty``), so it is not exactly the commit it names;
- ``buildDefinition.internalParameters``: the build's own parameters (repository name,
  version, network mode of the build);
- ``buildDefinition.resolvedDependencies``: the git commit, the base image (by its content
  digest) and every wheel copied into the image (by sha256);
- ``runDetails.builder.id``: the builder (shiprail on this host's Docker Engine).
"""

from __future__ import annotations

import hashlib
import re
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shiprail import __version__, _subprocess
from shiprail._docker import docker_errors, find_image
from shiprail.errors import ShiprailError, UsageError
from shiprail.image.build import image_is_dirty

if TYPE_CHECKING:
    from shiprail._docker import DockerClient, Image

PREDICATE_TYPE = "https://slsa.dev/provenance/v1"
BUILD_TYPE = "urn:shiprail:build-type:container-image:v1"
_CREDENTIALS = re.compile(r"(?<=://)[^/@]+@")
_WHEEL = re.compile(r"^(?P<name>[^-]+)-(?P<version>[^-]+)-.*\.whl$")


@dataclass(frozen=True)
class Dependency:
    uri: str
    digest: dict[str, str]
    name: str | None = None

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"uri": self.uri, "digest": self.digest}
        if self.name:
            data["name"] = self.name
        return data


@dataclass(frozen=True)
class BuildFacts:
    """What provenance records; gathered from the image and the host, or given by a caller."""

    source_repository: str
    commit: str
    builder_id: str
    parameters: dict[str, Any] = field(default_factory=dict)
    dependencies: tuple[Dependency, ...] = ()
    #: Built from a working tree with uncommitted changes (the image's dirty label).
    dirty: bool = False


def predicate(facts: BuildFacts) -> dict[str, Any]:
    """The SLSA v1 provenance predicate (cosign adds the statement and its subject)."""
    source = Dependency(f"git+{facts.source_repository}", {"gitCommit": facts.commit}, "source")
    return {
        "buildDefinition": {
            "buildType": BUILD_TYPE,
            "externalParameters": {
                "source": {
                    "repository": facts.source_repository,
                    "commit": facts.commit,
                    "dirty": facts.dirty,
                }
            },
            "internalParameters": facts.parameters,
            "resolvedDependencies": [d.as_json() for d in (source, *facts.dependencies)],
        },
        "runDetails": {
            "builder": {"id": facts.builder_id, "version": {"shiprail": __version__}},
            "metadata": {},
        },
    }


def source_repository(root: Path) -> str:
    """This repository's identity: the ``origin`` remote without credentials, else its path.

    A checkout without a remote is named ``file://<path>``: provenance then names this
    machine's checkout, which only this machine can verify against.
    """
    try:
        url = _subprocess.run(
            ["git", "config", "--get", "remote.origin.url"], cwd=root, timeout=30
        ).stdout.strip()
    except ShiprailError:
        url = ""
    if not url:
        return f"file://{root.resolve()}"
    return _CREDENTIALS.sub("", url).removesuffix(".git")


def full_commit(root: Path, revision: str) -> str:
    """The full sha of ``revision`` (an image's short revision label, or HEAD)."""
    try:
        result = _subprocess.run(
            ["git", "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"],
            cwd=root,
            timeout=30,
        )
    except ShiprailError:
        raise UsageError(f"commit '{revision}' is not in the repository at {root}") from None
    return result.stdout.strip()


def builder_id() -> str:
    return f"urn:shiprail:builder:docker-engine:{socket.gethostname()}"


def base_image(client: DockerClient, image_ref: str) -> Dependency | None:
    """The image ``image_ref`` was built FROM: the one its ``org.opencontainers.image.base.name``
    label names when the engine has it (two builds of the same code share every layer, so
    content alone could name the earlier build); else, found by content, the other local
    image whose layers are the longest prefix of its layers (the oldest on a tie: a base is
    always older than what is built on it, and an image that only adds metadata shares all
    its layers).

    Images are listed, then inspected one by one: one removed in between (another build's
    cleanup) is skipped, not an error, as the SDK's ``images.list()`` would make it."""
    with docker_errors(f"could not inspect {image_ref}"):
        image = client.images.get(image_ref)
        labels = (image.attrs.get("Config") or {}).get("Labels") or {}
        named = labels.get("org.opencontainers.image.base.name")
        declared = find_image(client, named) if named else None
        if declared is not None:
            return _dependency(declared)
        listed = client.api.images()
        candidates = [c for r in listed if (c := find_image(client, str(r["Id"]))) is not None]
    layers = image.attrs["RootFS"]["Layers"]
    best, best_len = None, 0
    for candidate in sorted(candidates, key=lambda c: str(c.attrs.get("Created", ""))):
        theirs = candidate.attrs.get("RootFS", {}).get("Layers", [])
        if candidate.id == image.id or layers[: len(theirs)] != theirs:
            continue
        if len(theirs) > best_len:  # strictly longer: on a tie the older one stays
            best, best_len = candidate, len(theirs)
    return _dependency(best) if best is not None else None


def _dependency(base: Image) -> Dependency:
    name = base.tags[0] if base.tags else str(base.id)
    digests = [d.split("@", 1)[1] for d in base.attrs.get("RepoDigests") or []]
    digest = {"sha256": str(base.id).removeprefix("sha256:")}
    if digests:
        digest["manifest-sha256"] = digests[0].removeprefix("sha256:")
    return Dependency(f"docker-image://{name}", digest, "base-image")


def wheels(wheelhouse: Path) -> tuple[Dependency, ...]:
    """Every wheel of a build's wheelhouse as ``pkg:pypi/<name>@<version>`` with its sha256."""
    found = []
    for path in sorted(wheelhouse.glob("*.whl")):
        match = _WHEEL.match(path.name)
        if not match:
            continue
        name = match["name"].lower().replace("_", "-")
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        found.append(Dependency(f"pkg:pypi/{name}@{match['version']}", {"sha256": sha}, path.name))
    return tuple(found)


def gather(
    client: DockerClient,
    image_ref: str,
    root: Path,
    *,
    commit: str,
    wheelhouse: Path | None = None,
) -> BuildFacts:
    """Provenance facts of a local image built from ``root`` at ``commit``.

    Whether the image is dirty comes from its own label, not from the tree now: the tree
    may have changed since the build, the label was set by the build itself.

    The wheelhouse defaults to the one ``shiprail build image`` leaves in
    ``build/image-context``; it is used only when it holds the service wheel of the image's
    version, so a later build's wheels are never attributed to this image.
    """
    with docker_errors(f"could not inspect {image_ref}"):
        labels = client.images.get(image_ref).attrs["Config"].get("Labels") or {}
    version = labels.get("org.opencontainers.image.version", "unknown")
    dependencies: list[Dependency] = []
    if base := base_image(client, image_ref):
        dependencies.append(base)
    house = wheelhouse or root / "build" / "image-context" / "wheelhouse"
    built = wheels(house) if house.is_dir() else ()
    if any(w.uri == f"pkg:pypi/workorders@{version}" for w in built) or wheelhouse:
        dependencies.extend(built)
    parameters = {
        "image": image_ref,
        "version": version,
        "network": "none",
        "created": labels.get("org.opencontainers.image.created", "unknown"),
    }
    return BuildFacts(
        source_repository(root),
        commit,
        builder_id(),
        parameters,
        tuple(dependencies),
        dirty=image_is_dirty(labels),
    )
