"""``shiprail image mirror-db DIR``: put a Trivy database into the local registry, so a scan
pulls it with ``--db-repository`` the way air-gapped Trivy users run it.

The artifact is laid out as Trivy's own (``mirror.gcr.io/aquasec/trivy-db:2``, pushed by the
trivy-db project with ``oras push --artifact-type application/vnd.aquasec.trivy.config.v1+json
... db.tar.gz:application/vnd.aquasec.trivy.db.layer.v1.tar+gzip``), because Trivy checks it:

- an OCI image manifest with exactly one layer (Trivy refuses any other count);
- that layer of media type ``application/vnd.aquasec.trivy.db.layer.v1.tar+gzip`` (Trivy asks
  for it by media type) holding ``trivy.db`` and ``metadata.json`` at the archive's root, and
  annotated ``org.opencontainers.image.title: db.tar.gz`` (Trivy names the download by it);
- a config blob ``{}`` of media type ``application/vnd.aquasec.trivy.config.v1+json``.

It is pushed with the OCI distribution API from here (blobs by POST then PUT, then the
manifest) over TLS verified against the local CA, with the registry's basic auth: no other
tool is needed. The archive is deterministic (no user names, a fixed gzip header), so the
same database mirrored again gives the same digests and the registry keeps one copy.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import ssl
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from shiprail.errors import ToolCrashed, UsageError
from shiprail.image.registry import RegistryAccess

MANIFEST_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json"
CONFIG_MEDIA_TYPE = "application/vnd.aquasec.trivy.config.v1+json"
DB_LAYER_MEDIA_TYPE = "application/vnd.aquasec.trivy.db.layer.v1.tar+gzip"
TITLE_ANNOTATION = "org.opencontainers.image.title"
DB_ARCHIVE = "db.tar.gz"
#: The files Trivy's database consists of, in ``<cache>/db/`` and in the archive.
DB_FILES = ("trivy.db", "metadata.json")
DEFAULT_REPOSITORY = "trivy-db"
#: Trivy v0.74.0 reads database schema 2; its default repository is tagged the same.
DEFAULT_TAG = "2"
#: Seconds one registry request may wait between bytes (a full database is ~100 MB).
HTTP_TIMEOUT_SECONDS = 120.0
# the distribution spec's grammar for repository names and tags
_COMPONENT = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
_REPOSITORY = re.compile(rf"{_COMPONENT}(?:/{_COMPONENT})*")
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")


@dataclass(frozen=True)
class Blob:
    """One blob of the artifact: its descriptor, and its bytes or the file holding them."""

    media_type: str
    digest: str
    size: int
    content: bytes | Path = field(repr=False)
    annotations: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of_bytes(cls, media_type: str, data: bytes) -> Blob:
        return cls(media_type, _sha256(data), len(data), data)

    @classmethod
    def of_file(cls, media_type: str, path: Path, annotations: dict[str, str]) -> Blob:
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        return cls(
            media_type, f"sha256:{digest.hexdigest()}", path.stat().st_size, path, annotations
        )

    def descriptor(self) -> dict[str, Any]:
        described: dict[str, Any] = {
            "mediaType": self.media_type,
            "digest": self.digest,
            "size": self.size,
        }
        if self.annotations:
            described["annotations"] = dict(self.annotations)
        return described


@dataclass(frozen=True)
class Artifact:
    """Trivy's database artifact: an empty config and the one database layer."""

    config: Blob
    layer: Blob

    def manifest(self) -> bytes:
        """The OCI image manifest, as the bytes pushed (its sha256 is the artifact's digest)."""
        document = {
            "schemaVersion": 2,
            "mediaType": MANIFEST_MEDIA_TYPE,
            "config": self.config.descriptor(),
            "layers": [self.layer.descriptor()],
        }
        return json.dumps(document, separators=(",", ":")).encode()

    @property
    def digest(self) -> str:
        return _sha256(self.manifest())


@dataclass(frozen=True)
class Mirrored:
    reference: str  # host/repository:tag, what image_scan.trivy_db_repository takes
    digest: str
    updated: str  # the database's UpdatedAt, as metadata.json says


def check_request(cache: Path, repository: str, tag: str) -> dict[str, Any]:
    """The database's metadata, once ``cache`` holds a database and the names are valid.

    Checked before the registry is asked, so a wrong directory is a plain usage error."""
    if not _REPOSITORY.fullmatch(repository):
        raise UsageError(
            f"--repository {repository!r} is not a repository name",
            hint="lower-case letters, digits and separators, e.g. trivy-db or aquasec/trivy-db",
        )
    if not _TAG.fullmatch(tag):
        raise UsageError(f"--tag {tag!r} is not a tag", hint="e.g. 2, Trivy's schema version")
    missing = [cache / "db" / name for name in DB_FILES if not (cache / "db" / name).is_file()]
    if missing:
        raise UsageError(
            f"no Trivy database in {cache}: {', '.join(map(str, missing))} missing",
            hint="give a Trivy cache directory whose db/ holds trivy.db and metadata.json "
            "(what image_scan.trivy_db_dir takes)",
        )
    try:
        metadata = json.loads((cache / "db" / "metadata.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"{cache / 'db' / 'metadata.json'} is not readable JSON: {exc}") from None
    if not isinstance(metadata, dict):
        raise UsageError(f"{cache / 'db' / 'metadata.json'} is not Trivy's metadata object")
    return metadata


def pack_database(cache: Path, workdir: Path) -> Artifact:
    """``db.tar.gz`` of ``cache``'s database in ``workdir``, and the artifact around it."""
    archive = workdir / DB_ARCHIVE
    with (
        archive.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=6, mtime=0) as packed,
        tarfile.open(fileobj=packed, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for name in DB_FILES:
            path = cache / "db" / name
            info = tar.gettarinfo(str(path), arcname=name)
            info.uid, info.gid, info.uname, info.gname, info.mode = 0, 0, "", "", 0o644
            with path.open("rb") as handle:
                tar.addfile(info, handle)
    layer = Blob.of_file(DB_LAYER_MEDIA_TYPE, archive, {TITLE_ANNOTATION: DB_ARCHIVE})
    return Artifact(Blob.of_bytes(CONFIG_MEDIA_TYPE, b"{}"), layer)


def mirror(
    cache: Path,
    access: RegistryAccess,
    *,
    repository: str = DEFAULT_REPOSITORY,
    tag: str = DEFAULT_TAG,
    progress: Callable[[str], None] = lambda _m: None,
) -> Mirrored:
    """Pack the database of the Trivy cache ``cache`` and push it as ``repository:tag``."""
    metadata = check_request(cache, repository, tag)
    with tempfile.TemporaryDirectory(prefix="shiprail-trivy-db-") as tmp:
        progress(f"packing {cache / 'db'} into {DB_ARCHIVE}")
        artifact = pack_database(cache, Path(tmp))
        progress(f"pushing {artifact.layer.size} bytes to {access.reference(repository)}")
        push(artifact, access, repository, tag)
    updated = str(metadata.get("UpdatedAt", "unknown"))
    return Mirrored(f"{access.reference(repository)}:{tag}", artifact.digest, updated)


def push(artifact: Artifact, access: RegistryAccess, repository: str, tag: str) -> None:
    """Upload the blobs the registry lacks, then tag the manifest; checks the digest back."""
    verify: ssl.SSLContext | bool = True
    if access.ca_file is not None:
        verify = ssl.create_default_context(cafile=str(access.ca_file))
    with httpx.Client(
        base_url=f"https://{access.host}",
        auth=(access.username, access.password),
        verify=verify,
        timeout=HTTP_TIMEOUT_SECONDS,
    ) as http:
        for blob in (artifact.config, artifact.layer):
            _upload(http, repository, blob)
        answer = _call(
            http,
            "PUT",
            f"/v2/{repository}/manifests/{tag}",
            content=artifact.manifest(),
            headers={"Content-Type": MANIFEST_MEDIA_TYPE},
        )
    stored = answer.headers.get("Docker-Content-Digest", artifact.digest)
    if stored != artifact.digest:
        raise ToolCrashed(f"the registry stored the manifest as {stored}, not {artifact.digest}")


def _upload(http: httpx.Client, repository: str, blob: Blob) -> None:
    """A monolithic upload (POST for a session, PUT with the digest), unless already there."""
    if _call(http, "HEAD", f"/v2/{repository}/blobs/{blob.digest}", ok=(200, 404)).is_success:
        return
    started = _call(http, "POST", f"/v2/{repository}/blobs/uploads/", ok=(202,))
    location = started.headers.get("Location")
    if not location:
        raise ToolCrashed("the registry started an upload without a Location")
    url = http.base_url.join(location).copy_merge_params({"digest": blob.digest})
    headers = {"Content-Type": "application/octet-stream", "Content-Length": str(blob.size)}
    if isinstance(blob.content, bytes):
        _call(http, "PUT", url, content=blob.content, headers=headers)
        return
    with blob.content.open("rb") as handle:  # streamed: a database may be large
        _call(http, "PUT", url, content=handle, headers=headers)


def _call(
    http: httpx.Client,
    method: str,
    url: httpx.URL | str,
    *,
    ok: tuple[int, ...] = (201,),
    **kw: Any,
) -> httpx.Response:
    """One request; an unreachable registry or an unexpected status is a ToolCrashed naming
    the registry's own error code (never the credentials, which travel in a header)."""
    try:
        answer = http.request(method, url, **kw)
    except httpx.HTTPError as exc:
        raise ToolCrashed(
            f"cannot reach the registry {http.base_url.host}:{http.base_url.port}: {exc}",
            hint="shiprail registry up",
        ) from None
    if answer.status_code not in ok:
        raise ToolCrashed(
            f"the registry answered {method} {httpx.URL(url).path} with "
            f"{answer.status_code}{_errors(answer)}"
        )
    return answer


def _errors(answer: httpx.Response) -> str:
    """``: CODE message`` from the distribution API's error body, when it has one."""
    try:
        errors = answer.json().get("errors") or []
    except (ValueError, AttributeError):
        return ""
    return "".join(f": {e.get('code', '')} {e.get('message', '')}".rstrip() for e in errors[:3])


def _sha256(data: bytes) -> str:
    return f"sha256:{hashlib.sha256(data).hexdigest()}"
