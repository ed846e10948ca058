"""Verify an image before it is trusted: digest, signature, provenance, source and commit.

The checks, in order (the first failure ends the run and is named in the refusal):

    digest      the reference resolves to one content digest (and to the expected one,
                when the caller knows it: a tag moved to other content is refused here)
    signature   ``cosign verify`` with one of the configured public keys
    provenance  ``cosign verify-attestation --type slsaprovenance1`` with that key, for
                that digest
    source      the provenance names this repository
    commit      the provenance names the commit being shipped

Every later step uses the digest resolved first, never the tag again, so the content cannot
change between checks. Offline the transparency log is not consulted
(``--insecure-ignore-tlog``): the signature is checked against the key alone.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shiprail.errors import Refused, ShiprailError, UsageError
from shiprail.image import cosign
from shiprail.image.provenance import PREDICATE_TYPE
from shiprail.image.registry import RegistryAccess
from shiprail.image.sign import PROVENANCE_TYPE

CHECKS = ("digest", "signature", "provenance", "source", "commit")


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class Verification:
    image: str
    digest: str | None
    key: str | None
    checks: tuple[Check, ...] = ()
    note: str = cosign.OFFLINE_NOTE

    @property
    def passed(self) -> bool:
        return len(self.checks) == len(CHECKS) and all(c.passed for c in self.checks)

    @property
    def failed(self) -> Check | None:
        return next((c for c in self.checks if not c.passed), None)


class VerificationFailed(Refused):
    """An image failed a check; ``verification`` holds every check run so far."""

    def __init__(self, verification: Verification) -> None:
        failed = verification.failed
        assert failed is not None
        super().__init__(
            f"verify {verification.image}: check '{failed.name}' failed: {failed.detail}"
        )
        self.verification = verification


@dataclass
class _Run:
    image: str
    digest: str | None = None
    key: str | None = None
    checks: list[Check] = field(default_factory=list)

    def passed(self, name: str, detail: str) -> None:
        self.checks.append(Check(name, True, detail))

    def fail(self, name: str, detail: str) -> VerificationFailed:
        self.checks.append(Check(name, False, detail))
        return VerificationFailed(self.result())

    def result(self) -> Verification:
        return Verification(self.image, self.digest, self.key, tuple(self.checks))


def verify(
    image: str,
    keys: Sequence[Path],
    access: RegistryAccess,
    *,
    repository: str,
    commit: str,
    expected_digest: str | None = None,
) -> Verification:
    """Run every check on ``image``; return the passed result or raise ``VerificationFailed``."""
    if not keys:
        raise UsageError("no public key to verify with", hint="pass --key cosign.pub")
    run = _Run(image)
    run.digest = _resolve_digest(image, access, run)
    if expected_digest and run.digest != expected_digest:
        raise run.fail("digest", f"{image} is now {run.digest}, expected {expected_digest}")
    run.passed("digest", run.digest)
    pinned = f"{_repository_of(image)}@{run.digest}"
    run.key = _signature(pinned, keys, access, run)
    statements = _provenance(pinned, Path(run.key), access, run)
    sources = {str(_source(s).get("repository")) for s in statements}
    if repository not in sources:
        raise run.fail("source", f"provenance names {sorted(sources)}, expected {repository}")
    run.passed("source", repository)
    commits = {
        str(_source(s).get("commit"))
        for s in statements
        if _source(s).get("repository") == repository
    }
    if commit not in commits:
        raise run.fail("commit", f"provenance names commit {sorted(commits)}, expected {commit}")
    run.passed("commit", commit)
    return run.result()


def _repository_of(image: str) -> str:
    """``host/repo`` of ``host/repo:tag`` or ``host/repo@sha256:...``."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)
    if ":" in last[-1]:
        name = name.rsplit(":", 1)[0]
    return name


def _resolve_digest(image: str, access: RegistryAccess, run: _Run) -> str:
    """The manifest digest ``image`` names now (asked of the registry once)."""
    if "@sha256:" in image:
        return image.split("@", 1)[1]
    try:
        result = cosign.run(["triangulate", "--type=digest", image], access=access)
    except ShiprailError as exc:
        raise run.fail("digest", f"cannot resolve {image}: {exc}") from None
    return result.stdout.strip().rsplit("@", 1)[-1]


def _signature(pinned: str, keys: Sequence[Path], access: RegistryAccess, run: _Run) -> str:
    """The first key whose signature over ``pinned`` verifies; else the check fails."""
    reasons = []
    for key in keys:
        result = cosign.run(
            ["verify", f"--key={key}", "--insecure-ignore-tlog=true", "--output=json", pinned],
            access=access,
            ok_codes=None,
        )
        if result.returncode == 0 and _signed_digests(result.stdout) == {run.digest}:
            run.passed("signature", f"signed by {key}")
            return str(key)
        reasons.append(f"{key.name}: {_last_line(result.stderr)}")
    raise run.fail(
        "signature", "no valid signature by the configured key(s): " + "; ".join(reasons)
    )


def _provenance(pinned: str, key: Path, access: RegistryAccess, run: _Run) -> list[dict[str, Any]]:
    """The verified SLSA provenance statements whose subject is the resolved digest."""
    result = cosign.run(
        [
            "verify-attestation",
            f"--key={key}",
            f"--type={PROVENANCE_TYPE}",
            "--insecure-ignore-tlog=true",
            pinned,
        ],
        access=access,
        ok_codes=None,
    )
    if result.returncode != 0:
        raise run.fail(
            "provenance", f"no provenance signed by {key.name}: {_last_line(result.stderr)}"
        )
    statements = [s for s in _statements(result.stdout) if _about(s, run.digest)]
    if not statements:
        raise run.fail("provenance", f"no {PREDICATE_TYPE} statement for {run.digest}")
    run.passed("provenance", f"{len(statements)} SLSA v1 statement(s) signed by {key.name}")
    return statements


def _signed_digests(output: str) -> set[str]:
    """The digests named in ``cosign verify --output=json``'s signed payloads."""
    try:
        payloads = json.loads(output)
    except ValueError:
        return set()
    return {
        str(p.get("critical", {}).get("image", {}).get("docker-manifest-digest")) for p in payloads
    }


def _statements(output: str) -> list[dict[str, Any]]:
    """The in-toto statements of ``verify-attestation``'s output (one envelope per line)."""
    statements = []
    for line in output.splitlines():
        if not line.strip().startswith("{"):
            continue
        envelope = json.loads(line)
        statements.append(json.loads(base64.b64decode(envelope["payload"])))
    return statements


def _about(statement: dict[str, Any], digest: str | None) -> bool:
    if statement.get("predicateType") != PREDICATE_TYPE or digest is None:
        return False
    hexdigest = digest.removeprefix("sha256:")
    return any(s.get("digest", {}).get("sha256") == hexdigest for s in statement.get("subject", []))


def _source(statement: dict[str, Any]) -> dict[str, Any]:
    predicate = statement.get("predicate", {})
    source = predicate.get("buildDefinition", {}).get("externalParameters", {}).get("source", {})
    return source if isinstance(source, dict) else {}


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no output"
