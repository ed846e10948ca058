"""What the release engine lets start: an image admitted by an :class:`ImageTrust`.

The engine does not know how an image is verified (signatures, provenance and scan results
belong to ``shiprail.image``). Before any container of a deploy, promotion or rollback starts,
it asks the trust handed in through the :class:`~shiprail.deploy.platform.Platform` to admit
the image, and records the answer in the ledger: the pinned reference the target pulls and
runs (``<registry>/<repo>@sha256:...``), the commit, the SBOM digest, whether the tree was
dirty, and one line saying how it was verified. A refusal is a
:class:`~shiprail.errors.Refused` naming the failed check; the engine records it and starts
nothing, so the previous release keeps serving.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from shiprail.deploy.settings import EnvironmentConfig

#: What the ledger says of a release deployed with verification turned off (dev only).
NOT_VERIFIED = "not verified: verify is off for this environment (shiprail.yaml)"


@dataclass(frozen=True)
class TrustedImage:
    """An image the engine may start, and what the ledger records about it."""

    #: what the target pulls and runs: ``<registry>/<repo>@sha256:...`` (a local image name
    #: only when the environment pulls from no registry)
    reference: str
    #: the manifest digest in the registry (None for an image that never left the engine)
    digest: str | None
    #: the commit the provenance names (None when unverified: the image label is used)
    commit: str | None
    sbom_digest: str | None = None
    dirty: bool = False
    #: one line for the ledger: the checks passed, or why none ran
    verification: str = NOT_VERIFIED
    #: registry credentials for the pull (never stored or printed)
    pull_auth: dict[str, str] | None = field(default=None, repr=False)


class ImageTrust(Protocol):
    def admit(
        self,
        environment: str,
        cfg: EnvironmentConfig,
        image: str,
        *,
        commit: str | None,
        verify: bool,
    ) -> TrustedImage:
        """Resolve ``image`` to the reference the environment pulls (its registry, by
        digest) and, when ``verify``, run every check; raise ``Refused`` naming the first
        that fails. ``commit`` is the commit being shipped (None: the checkout's HEAD)."""
        ...
