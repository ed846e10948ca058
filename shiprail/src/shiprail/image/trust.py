"""The release engine's :class:`~shiprail.deploy.trust.ImageTrust` in production: images come
from each environment's registry, by digest, and pass every check of ``verify.py``.

The image a person names may be a local image (``workorders:1.0.0-<sha12>``, found in the
registry through the digest its push recorded), a tag in the registry, or a reference by
digest. Whatever it is, the engine gets back ``<registry>/<repo>@sha256:...``: the content
that was verified is the content that is pulled and started, on any engine.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from shiprail._docker import docker_errors, find_image
from shiprail.deploy.settings import EnvironmentConfig
from shiprail.deploy.trust import NOT_VERIFIED, TrustedImage
from shiprail.errors import Refused, UsageError
from shiprail.image import provenance
from shiprail.image.build import DIRTY_LABEL
from shiprail.image.registry import RegistryAccess, registry_access
from shiprail.image.scan import Context
from shiprail.image.verify import repository_of, resolve_digest
from shiprail.image.verify import verify as verify_image

if TYPE_CHECKING:
    from shiprail._docker import DockerClient


@dataclass
class RegistryTrust:
    """Admits images from the environment's registry that verify with one of ``keys``."""

    root: Path
    state: Path
    keys: Sequence[Path]
    #: the local Docker Engine, where locally built images are looked up
    client: Callable[[], DockerClient]
    #: the scan gate (threshold, waivers) the attached scan result is judged by
    scan: Callable[[], Context]

    def admit(
        self,
        environment: str,
        cfg: EnvironmentConfig,
        image: str,
        *,
        commit: str | None,
        verify: bool,
    ) -> TrustedImage:
        if cfg.registry is None:
            return TrustedImage(image, None, None, dirty=self._dirty_label(image))
        access = self.access(cfg.registry)
        reference = self.in_registry(image, access)
        if not verify:
            digest = resolve_digest(reference, access)
            return TrustedImage(
                f"{repository_of(reference)}@{digest}",
                digest,
                None,
                dirty=self._dirty_label(image),
                verification=NOT_VERIFIED,
                pull_auth=access.auth_config(),
            )
        result = verify_image(
            reference,
            self.keys,
            access,
            repository=provenance.source_repository(self.root),
            commit=provenance.full_commit(self.root, commit or "HEAD"),
            scan=self.scan(),
        )
        assert result.digest is not None
        return TrustedImage(
            f"{repository_of(reference)}@{result.digest}",
            result.digest,
            result.commit,
            sbom_digest=f"sha256:{result.sbom_sha256}" if result.sbom_sha256 else None,
            dirty=result.dirty,
            verification=result.summary(),
            pull_auth=access.auth_config(),
        )

    def access(self, registry: str) -> RegistryAccess:
        """``local``: the registry ``shiprail registry up`` runs; else a host with the
        credentials of SHIPRAIL_REGISTRY_USERNAME / _PASSWORD (the same rule ``shiprail
        publish --registry`` follows, so what is published is what can be pulled)."""
        return registry_access(registry, self.state)

    def in_registry(self, image: str, access: RegistryAccess) -> str:
        """``image`` as a reference in the registry; a local image by the digest its push
        recorded. An image that was never published there is refused."""
        if image.startswith(f"{access.host}/"):
            return image
        with docker_errors(f"Docker Engine error reading image {image}"):
            local = find_image(self.client(), image)
        pushed = [
            d
            for d in (local.attrs.get("RepoDigests") or [] if local else [])
            if d.startswith(f"{access.host}/")
        ]
        if not pushed:
            raise Refused(
                f"verify {image}: check 'digest' failed: it was never published to "
                f"{access.host}, where this environment pulls from",
                hint=f"shiprail publish {image}",
            )
        return str(pushed[0])

    def _dirty_label(self, image: str) -> bool:
        """Whether the local image says it was built from a dirty tree (unverified path)."""
        try:
            with docker_errors(f"Docker Engine error reading image {image}", UsageError):
                found = find_image(self.client(), image)
        except UsageError:
            return False
        labels = ((found.attrs.get("Config") or {}).get("Labels") or {}) if found else {}
        return labels.get(DIRTY_LABEL) == "true"


def production_trust() -> RegistryTrust:
    """The trust of this repository: ``signing.public_keys`` (default ``<state>/keys``), the
    local engine, and the scan gate of its shiprail.yaml."""
    from shiprail._docker import docker_client
    from shiprail.config import load_config
    from shiprail.deploy.settings import state_dir
    from shiprail.image.keys import PUBLIC_NAME
    from shiprail.image.scan import load_context
    from shiprail.paths import repo_root

    root, state = repo_root(), state_dir()
    configured = load_config().signing.public_keys
    keys = [p if p.is_absolute() else root / p for p in map(Path, configured)]
    return RegistryTrust(
        root=root,
        state=state,
        keys=keys or [state / "keys" / PUBLIC_NAME],
        client=docker_client,
        scan=lambda: load_context(None),
    )
