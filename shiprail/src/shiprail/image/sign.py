"""Sign a pushed image and attach signed attestations, always by digest, with cosign.

- the signature: ``cosign sign`` over ``<registry>/<repo>@<digest>``;
- the provenance: ``cosign attest --type slsaprovenance1`` with the SLSA v1 predicate of
  ``provenance.py``;
- the SBOM: ``cosign attest --type cyclonedx`` with a CycloneDX JSON file the caller made;
- the scan result: ``cosign attest --type vuln`` with the record of ``scan_record.py``.

Signing a tag would sign whatever the tag points to at that moment; the digest names the
content. What signs is a :data:`cosign.Signer`: a key, with nothing uploaded to a
transparency log (``cosign.OFFLINE_NOTE``), or the keyless flow of a CI run
(``cosign.KEYLESS``: a Fulcio certificate, recorded in Rekor). Each function takes the
``run`` that executes cosign (default :func:`cosign.run`), so the exact argument lists can
be checked where no registry or Sigstore is reachable.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shiprail.errors import UsageError
from shiprail.image import cosign
from shiprail.image.registry import RegistryAccess
from shiprail.image.scan_record import SCAN_TYPE

PROVENANCE_TYPE = "slsaprovenance1"
SBOM_TYPE = "cyclonedx"


@dataclass(frozen=True)
class Signed:
    reference: str  # <registry>/<repo>@sha256:...
    attestations: tuple[str, ...]  # the predicate types attached
    note: str = cosign.OFFLINE_NOTE


def _by_digest(reference: str) -> str:
    if "@sha256:" not in reference:
        raise UsageError(
            f"{reference} is not a reference by digest",
            hint="sign <registry>/<repo>@sha256:..., as shiprail image publish prints it",
        )
    return reference


def sign(
    reference: str,
    key: cosign.Signer,
    access: RegistryAccess,
    *,
    run: cosign.Runner | None = None,
) -> None:
    """Sign the image at ``reference`` (by digest) and push the signature beside it."""
    (run or cosign.run)(
        ["sign", *key.key_flags(), *key.tlog_flags(), "--yes", _by_digest(reference)],
        access=access,
        password=key.password,
    )


def attest(
    reference: str,
    key: cosign.Signer,
    access: RegistryAccess,
    *,
    predicate_type: str,
    predicate_file: Path,
    run: cosign.Runner | None = None,
) -> None:
    """Attach a signed in-toto attestation of ``predicate_type`` to the image."""
    (run or cosign.run)(
        [
            "attest",
            *key.key_flags(),
            f"--type={predicate_type}",
            f"--predicate={predicate_file}",
            *key.tlog_flags(),
            "--yes",
            _by_digest(reference),
        ],
        access=access,
        password=key.password,
    )


def attest_predicate(
    reference: str,
    key: cosign.Signer,
    access: RegistryAccess,
    predicate: dict[str, Any],
    predicate_type: str = PROVENANCE_TYPE,
    *,
    run: cosign.Runner | None = None,
) -> None:
    """Attach ``predicate`` (a JSON document made here) as a signed attestation."""
    with tempfile.TemporaryDirectory(prefix="shiprail-predicate-") as tmp:
        path = Path(tmp) / "predicate.json"
        path.write_text(json.dumps(predicate, indent=2))
        attest(reference, key, access, predicate_type=predicate_type, predicate_file=path, run=run)


def attest_sbom(
    reference: str,
    key: cosign.Signer,
    access: RegistryAccess,
    sbom: Path,
    *,
    run: cosign.Runner | None = None,
) -> None:
    """Attach a CycloneDX JSON SBOM (made elsewhere, e.g. by Trivy) as a signed attestation."""
    try:
        document = json.loads(sbom.read_text())
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read the SBOM {sbom}: {exc}") from None
    if document.get("bomFormat") != "CycloneDX":
        raise UsageError(f"{sbom} is not a CycloneDX JSON document (bomFormat)")
    attest(reference, key, access, predicate_type=SBOM_TYPE, predicate_file=sbom, run=run)


def sign_and_attest(
    reference: str,
    key: cosign.Signer,
    access: RegistryAccess,
    *,
    provenance: dict[str, Any],
    sbom: Path | None = None,
    scan: dict[str, Any] | None = None,
    run: cosign.Runner | None = None,
) -> Signed:
    """The signature, then the provenance, then the SBOM and the scan result when given."""
    sign(reference, key, access, run=run)
    attest_predicate(reference, key, access, provenance, run=run)
    attached = [PROVENANCE_TYPE]
    if sbom is not None:
        attest_sbom(reference, key, access, sbom, run=run)
        attached.append(SBOM_TYPE)
    if scan is not None:
        attest_predicate(reference, key, access, scan, SCAN_TYPE, run=run)
        attached.append(SCAN_TYPE)
    return Signed(reference, tuple(attached), key.note)
