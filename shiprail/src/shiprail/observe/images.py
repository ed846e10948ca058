"""Prometheus and Alertmanager images for the Compose stack, built from Debian packages.

No container registry is needed: ``ensure_base_image`` makes a Debian root filesystem with
debootstrap that already holds the package (``prometheus`` or ``prometheus-alertmanager``),
and a small Dockerfile under ``monitoring/images/<name>/`` adds the committed configuration,
a non-root user, a health check and OCI labels. The build runs with ``network_mode=none``.

The build context is assembled in a scratch directory from the few committed files each
image needs (never the whole repository), and its hash is part of the tag, so a changed rule
or route gives a new image and an unchanged one is not rebuilt.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shiprail._docker import docker_errors
from shiprail.errors import ToolCrashed, UsageError
from shiprail.image.base import ensure_base_image, image_exists
from shiprail.image.build import git_sha
from shiprail.paths import repo_root

if TYPE_CHECKING:
    from shiprail._docker import DockerClient

REPOSITORY_PREFIX = "shiprail"
#: The tag Compose uses unless PROMETHEUS_IMAGE / ALERTMANAGER_IMAGE pin a reference.
LOCAL_TAG = "local"
#: Copying a few configuration files onto a Debian base takes seconds; allow a slow runner.
BUILD_TIMEOUT_SECONDS = 600
#: Starting a container to ask dpkg for a version.
PROBE_TIMEOUT_SECONDS = 120


@dataclass(frozen=True)
class ImageSpec:
    """One image: its name, the Debian package inside, and the committed files it carries
    (repository-relative source -> path under the image's config/ context directory)."""

    name: str
    package: str
    files: tuple[tuple[str, str], ...]

    @property
    def dockerfile(self) -> str:
        return f"monitoring/images/{self.name}/Dockerfile"


SPECS = (
    ImageSpec(
        "prometheus",
        "prometheus",
        (
            ("monitoring/prometheus/prometheus.yml", "prometheus.yml"),
            ("monitoring/prometheus/alerts.yaml", "alerts.yaml"),
            ("monitoring/prometheus/slo-rules.yaml", "slo-rules.yaml"),
        ),
    ),
    ImageSpec(
        "alertmanager",
        "prometheus-alertmanager",
        (
            ("monitoring/alertmanager/alertmanager.yml", "alertmanager.yml"),
            ("monitoring/alertmanager/templates", "templates"),
        ),
    ),
)


@dataclass(frozen=True)
class BuiltImage:
    name: str
    reference: str
    local_reference: str
    image_id: str
    base: str
    package_version: str
    rebuilt: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "reference": self.reference,
            "local_reference": self.local_reference,
            "image_id": self.image_id,
            "base": self.base,
            "package_version": self.package_version,
            "rebuilt": self.rebuilt,
        }


def spec_named(name: str) -> ImageSpec:
    for spec in SPECS:
        if spec.name == name:
            return spec
    known = ", ".join(s.name for s in SPECS)
    raise UsageError(f"no monitoring image named '{name}'", hint=f"choose from: {known}")


def assemble_context(spec: ImageSpec, root: Path, context: Path) -> str:
    """Copy the Dockerfile and the committed files into ``context``; return their hash."""
    digest = hashlib.sha256()
    sources = [(spec.dockerfile, "Dockerfile")] + [(s, f"config/{d}") for s, d in spec.files]
    for source, destination in sources:
        path = root / source
        if not path.exists():
            raise UsageError(f"{source} is missing: the {spec.name} image cannot be built")
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            relative = Path(destination) / file.relative_to(path) if path.is_dir() else None
            target = context / (relative if relative is not None else destination)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(file, target)
            digest.update(str(target.relative_to(context)).encode() + b"\0")
            digest.update(file.read_bytes() + b"\0")
    return digest.hexdigest()


def package_version(client: DockerClient, base: str, package: str) -> str:
    """The Debian package version inside ``base`` (for the tag and the OCI version label)."""
    # create/start/wait/logs rather than run(remove=True): the latter can return before the
    # output is collected on a busy engine, giving an empty answer.
    with docker_errors(f"could not ask dpkg for the version of {package} in {base}"):
        container = client.containers.create(
            base,
            ["dpkg-query", "--show", "--showformat=${Version}", package],
            network_mode="none",
        )
        try:
            container.start()
            status = container.wait(timeout=PROBE_TIMEOUT_SECONDS)
            output = container.logs(stdout=True, stderr=True).decode(errors="replace").strip()
        finally:
            container.remove(force=True)
    if status.get("StatusCode") != 0 or not output:
        raise ToolCrashed(f"{package} is not installed in {base}: {output or 'no output'}")
    return output


def tag_safe(text: str) -> str:
    """Docker tags allow letters, digits, '_', '.' and '-' only (Debian versions hold '+')."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text)[:100]


def build_monitoring_image(
    client: DockerClient,
    spec: ImageSpec,
    *,
    root: Path | None = None,
    prefix: str = REPOSITORY_PREFIX,
    force: bool = False,
    say: Callable[[str], None] = lambda _: None,
) -> BuiltImage:
    """Build one image (or reuse it when nothing it is made of changed)."""
    root = root or repo_root()
    say(f"{spec.name}: base image with Debian's {spec.package} (debootstrap, cached)")
    base = ensure_base_image(client, extra_packages=(spec.package,))
    version = package_version(client, base, spec.package)
    repository = f"{prefix}/{spec.name}"
    with tempfile.TemporaryDirectory(prefix=f"shiprail-{spec.name}-image-") as scratch:
        context = Path(scratch)
        content = assemble_context(spec, root, context)
        recipe = hashlib.sha256(f"{base}\0{content}".encode()).hexdigest()[:12]
        reference = f"{repository}:{tag_safe(version)}-{recipe}"
        local = f"{repository}:{LOCAL_TAG}"
        if image_exists(client, reference) and not force:
            with docker_errors(f"could not tag {reference} as {local}"):
                image = client.images.get(reference)
                image.tag(repository, LOCAL_TAG)
            say(f"{spec.name}: {reference} is up to date")
            return BuiltImage(spec.name, reference, local, str(image.id), base, version, False)
        say(f"{spec.name}: building {reference} FROM {base} (no network inside the build)")
        with docker_errors(f"docker build of {reference} failed"):
            image, _logs = client.images.build(
                path=str(context),
                tag=reference,
                buildargs={
                    "BASE": base,
                    "VERSION": version,
                    "GIT_SHA": git_sha(root),
                    "BUILD_TIME": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                },
                network_mode="none",
                rm=True,
                forcerm=True,
                timeout=BUILD_TIMEOUT_SECONDS,
            )
    with docker_errors(f"could not tag {reference} as {local}"):
        image.tag(repository, LOCAL_TAG)
    return BuiltImage(spec.name, reference, local, str(image.id), base, version, True)


def build_monitoring_images(
    client: DockerClient,
    names: list[str] | None = None,
    *,
    root: Path | None = None,
    force: bool = False,
    say: Callable[[str], None] = lambda _: None,
) -> list[BuiltImage]:
    specs = [spec_named(n) for n in names] if names else list(SPECS)
    return [build_monitoring_image(client, s, root=root, force=force, say=say) for s in specs]
