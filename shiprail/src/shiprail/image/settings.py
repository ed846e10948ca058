"""The ``image_scan:`` section of ``shiprail.yaml``: where Trivy's vulnerability database
comes from when the image is scanned.

Trivy downloads its database from the internet by default, which an air-gapped site cannot.
Two offline sources are supported, the ways air-gapped Trivy users run it:

- ``trivy_db_dir``: a Trivy cache directory holding ``db/trivy.db`` and ``db/metadata.json``
  (copied from a connected machine's cache, or made for tests); used as is, never updated.
- ``trivy_db_repository``: an OCI repository the database was mirrored into (the local
  registry), passed to Trivy's ``--db-repository``.

With neither, Debian packages are not audited and the report says so; Python packages are
still audited against the OSV data of ``scan.dependencies``.
"""

from __future__ import annotations

from pydantic import Field

from shiprail.strict import StrictModel

#: Where Trivy keeps its scan cache (and a downloaded database) when no directory is named.
DEFAULT_TRIVY_CACHE = ".cache/trivy"


class ImageScanConfig(StrictModel):
    """``image_scan:`` in shiprail.yaml."""

    trivy_db_dir: str | None = Field(
        default=None,
        description="Trivy cache directory holding db/trivy.db (offline database, not updated)",
    )
    trivy_db_repository: str | None = Field(
        default=None,
        description="OCI repository holding a mirror of Trivy's database (--db-repository)",
    )
    cache_dir: str = Field(
        default=DEFAULT_TRIVY_CACHE, description="Trivy's cache when no trivy_db_dir is given"
    )
    sbom_dir: str = Field(
        default=".shiprail/sbom", description="Where SBOMs are kept, one per image digest"
    )
    timeout: float = Field(default=900.0, gt=0, description="Seconds allowed per Trivy run")


class SigningConfig(StrictModel):
    """``signing:`` in shiprail.yaml: the public keys a release's signature must verify with.

    Several keys are accepted at once (any one verifies) so a key can be rotated: add the new
    public key, sign new releases with it, and remove the old one when no release that may be
    rolled back to still needs it."""

    public_keys: list[str] = Field(
        default_factory=list,
        description="cosign public keys (PEM files); empty: <state>/keys/cosign.pub",
    )
