"""The image's SBOM: a CycloneDX JSON document made by Trivy, kept by image digest.

The image is exported from the Docker Engine (``docker save`` through the SDK, so a remote
engine works too) and Trivy reads the tarball (``--input``): nothing is pulled and no
database is needed to list packages. Trivy finds the Debian packages (dpkg's status) and
the Python distributions (``*.dist-info`` metadata) and records each one with its purl,
which is how the image scan and ``shiprail image rescan`` find them again later.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from shiprail._docker import docker_errors
from shiprail.errors import UsageError
from shiprail.image.trivy import run_trivy, trivy_command
from shiprail.scan.scanners.osv import Pin

if TYPE_CHECKING:
    from shiprail._docker import DockerClient

#: Trivy's own properties in the CycloneDX document (the file a package was found in).
_FILE_PATH = "aquasecurity:trivy:FilePath"


@dataclass(frozen=True)
class Package:
    """One component of the SBOM."""

    name: str
    version: str
    kind: str  # the purl type: "deb", "pypi", ...
    purl: str
    path: str | None = None  # where in the image it was found (Python packages)


@dataclass(frozen=True)
class Sbom:
    path: Path
    sha256: str
    image: str  # the reference asked for
    digest: str  # the image id (sha256:...), which the SBOM is kept under

    def packages(self) -> list[Package]:
        return read_packages(self.path)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def image_digest(client: DockerClient, reference: str) -> str:
    """The local image's content digest (its id, ``sha256:...``)."""
    with docker_errors(f"image {reference} not found in the Docker Engine"):
        return str(client.images.get(reference).id)


@contextmanager
def exported(client: DockerClient, reference: str) -> Iterator[Path]:
    """The image saved as a ``docker save`` tarball in a temporary directory."""
    with tempfile.TemporaryDirectory(prefix="shiprail-image-") as tmp:
        tarball = Path(tmp) / "image.tar"
        with docker_errors(f"cannot export image {reference}"):
            image = client.images.get(reference)
            with tarball.open("wb") as handle:
                for chunk in image.save(named=True):
                    handle.write(chunk)
        yield tarball


def make_sbom(
    tarball: Path, reference: str, digest: str, dest: Path, *, cache_dir: Path, timeout: float
) -> Sbom:
    """Write the CycloneDX SBOM of the exported image to ``dest`` (its parent is created),
    through a temporary file, so an interrupted run never leaves half an SBOM behind."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(f".{dest.name}.partial")
    run_trivy(
        trivy_command(
            "image",
            "--input",
            str(tarball),
            "--format",
            "cyclonedx",
            "--output",
            str(partial),
            cache_dir=cache_dir,
        ),
        timeout,
    )
    partial.replace(dest)
    return Sbom(dest, sha256_file(dest), reference, digest)


def stored_sbom(dest: Path, reference: str, digest: str) -> Sbom | None:
    """The SBOM already kept for this digest, if any.

    A digest names the image's content, so its SBOM is written once and kept: Trivy's
    CycloneDX output differs on every run (serial number, timestamp), and the sha256 a
    release records (and a signature attests) must keep naming the file on disk.
    """
    if not dest.is_file():
        return None
    read_packages(dest)  # a damaged file is an error, not silently replaced
    return Sbom(dest, sha256_file(dest), reference, digest)


def sbom_path(sbom_dir: Path, digest: str) -> Path:
    """``<sbom_dir>/<digest hex>.cdx.json``: one SBOM per image content."""
    return sbom_dir / f"{digest.removeprefix('sha256:')}.cdx.json"


def write_sbom(
    client: DockerClient, reference: str, sbom_dir: Path, *, cache_dir: Path, timeout: float
) -> Sbom:
    """The SBOM of a local image, kept under its digest in ``sbom_dir`` (made once)."""
    digest = image_digest(client, reference)
    dest = sbom_path(sbom_dir, digest)
    stored = stored_sbom(dest, reference, digest)
    if stored is not None:
        return stored
    with exported(client, reference) as tarball:
        return make_sbom(tarball, reference, digest, dest, cache_dir=cache_dir, timeout=timeout)


def read_packages(path: Path) -> list[Package]:
    """The components of a CycloneDX document that carry a purl (packages, not files)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read the SBOM {path}: {exc}") from exc
    if document.get("bomFormat") != "CycloneDX":
        raise UsageError(f"{path} is not a CycloneDX SBOM")
    packages = []
    for component in _components(document.get("components") or []):
        purl = str(component.get("purl") or "")
        if not purl.startswith("pkg:"):
            continue
        kind = purl[4:].split("/", 1)[0]
        props = {p.get("name"): p.get("value") for p in component.get("properties") or []}
        packages.append(
            Package(
                name=str(component.get("name", "")),
                version=str(component.get("version", "")),
                kind=kind,
                purl=unquote(purl),
                path=props.get(_FILE_PATH),
            )
        )
    return packages


def _components(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for item in items:
        yield item
        yield from _components(item.get("components") or [])


def python_pins(packages: list[Package]) -> list[Pin]:
    """The SBOM's Python packages as pins the OSV audit reads (the path says where)."""
    return [
        Pin(p.name, p.version, p.path or f"python/{p.name}", 1, f"{p.name}=={p.version}")
        for p in packages
        if p.kind == "pypi"
    ]
