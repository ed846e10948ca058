"""Verify an image before it is trusted: digest, signature, provenance, source and commit.

The checks, in order (the first failure ends the run and is named in the refusal):

    digest      the reference resolves to one content digest (and to the expected one,
                when the caller knows it: a tag moved to other content is refused here)
    signature   ``cosign verify`` with one of the configured public keys
    provenance  ``cosign verify-attestation --type slsaprovenance1`` with that key, for
                that digest
    source      the provenance names this repository
    commit      the provenance names the commit being shipped
    scan        the signed scan result attached at publish passes the gate today (with the
                waivers of today: an expired waiver no longer lets its advisory through)

Every later step uses the digest resolved first, never the tag again, so the content cannot
change between checks. Offline the transparency log is not consulted
(``--insecure-ignore-tlog``): the signature is checked against the key alone.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shiprail import _subprocess
from shiprail.errors import Refused, ShiprailError, UsageError
from shiprail.image import cosign, scan_record
from shiprail.image.provenance import PREDICATE_TYPE
from shiprail.image.registry import RegistryAccess
from shiprail.image.scan import Context, judge_record, refusal
from shiprail.image.scan_record import SCAN_PREDICATE_TYPE, SCAN_TYPE
from shiprail.image.sign import PROVENANCE_TYPE

CHECKS = ("digest", "signature", "provenance", "source", "commit", "scan")


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
    #: what the verified provenance and scan say (filled as the checks pass)
    commit: str | None = None
    dirty: bool = False
    sbom_sha256: str | None = None

    @property
    def passed(self) -> bool:
        return len(self.checks) == len(CHECKS) and all(c.passed for c in self.checks)

    def summary(self) -> str:
        """One line for the ledger: the checks passed and the key."""
        names = ", ".join(c.name for c in self.checks if c.passed)
        key = Path(self.key).name if self.key else "no key"
        return f"verified ({names}) with {key}; {self.note}"

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
    commit: str | None = None
    dirty: bool = False
    sbom_sha256: str | None = None

    def passed(self, name: str, detail: str) -> None:
        self.checks.append(Check(name, True, detail))

    def fail(self, name: str, detail: str) -> VerificationFailed:
        self.checks.append(Check(name, False, detail))
        return VerificationFailed(self.result())

    def result(self) -> Verification:
        return Verification(
            self.image,
            self.digest,
            self.key,
            tuple(self.checks),
            commit=self.commit,
            dirty=self.dirty,
            sbom_sha256=self.sbom_sha256,
        )


def verify(
    image: str,
    keys: Sequence[Path],
    access: RegistryAccess,
    *,
    repository: str,
    commit: str,
    scan: Context,
    expected_digest: str | None = None,
    today: dt.date | None = None,
) -> Verification:
    """Run every check on ``image``; return the passed result or raise ``VerificationFailed``.

    ``scan`` is the gate (threshold, waivers) the attached scan result is judged by."""
    if not keys:
        raise UsageError("no public key to verify with", hint="pass --key cosign.pub")
    run = _Run(image)
    run.digest = _resolve_digest(image, access, run)
    if expected_digest and run.digest != expected_digest:
        raise run.fail("digest", f"{image} is now {run.digest}, expected {expected_digest}")
    run.passed("digest", run.digest)
    pinned = f"{repository_of(image)}@{run.digest}"
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
    run.commit = commit
    run.dirty = any(
        bool(_source(s).get("dirty")) for s in statements if _source(s).get("commit") == commit
    )
    run.passed("commit", commit + (" (built from a dirty tree)" if run.dirty else ""))
    _scan(pinned, Path(run.key), access, run, scan, today)
    return run.result()


def _scan(
    pinned: str,
    key: Path,
    access: RegistryAccess,
    run: _Run,
    ctx: Context,
    today: dt.date | None,
) -> None:
    """The newest signed scan result for the digest, judged with today's waivers."""
    result = _verify_attestation(pinned, key, access, SCAN_TYPE)
    if result.returncode != 0:
        raise run.fail(
            "scan",
            f"no scan result signed by {key.name} (publish attaches it): "
            + _last_line(result.stderr),
        )
    records = []
    for statement in _statements(result.stdout):
        if statement.get("predicateType") != SCAN_PREDICATE_TYPE or not _subject_is(
            statement, run.digest
        ):
            continue
        try:
            scanner = statement["predicate"]["scanner"]
            records.append(scan_record.from_json(scanner["result"]["shiprail"]))
        except (KeyError, TypeError, ValueError):
            continue
    if not records:
        raise run.fail("scan", f"no shiprail scan result for {run.digest}")
    record = max(records, key=lambda r: r.finished)
    reason = refusal(judge_record(ctx, record, today))
    if reason is not None:
        raise run.fail("scan", reason)
    run.sbom_sha256 = record.sbom_sha256
    run.passed("scan", f"scanned {record.finished}: no blocking finding today")


def repository_of(image: str) -> str:
    """``host/repo`` of ``host/repo:tag`` or ``host/repo@sha256:...``."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)
    if ":" in last[-1]:
        name = name.rsplit(":", 1)[0]
    return name


def _resolve_digest(image: str, access: RegistryAccess, run: _Run) -> str:
    try:
        return resolve_digest(image, access)
    except Refused as exc:
        raise run.fail("digest", exc.message) from None


def resolve_digest(image: str, access: RegistryAccess) -> str:
    """The manifest digest ``image`` names now (asked of the registry once)."""
    if "@sha256:" in image:
        return image.split("@", 1)[1]
    try:
        result = cosign.run(["triangulate", "--type=digest", image], access=access)
    except ShiprailError as exc:
        raise Refused(f"cannot resolve {image}: {exc.message}") from None
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
    result = _verify_attestation(pinned, key, access, PROVENANCE_TYPE)
    if result.returncode != 0:
        raise run.fail(
            "provenance", f"no provenance signed by {key.name}: {_last_line(result.stderr)}"
        )
    statements = [s for s in _statements(result.stdout) if _about(s, run.digest)]
    if not statements:
        raise run.fail("provenance", f"no {PREDICATE_TYPE} statement for {run.digest}")
    run.passed("provenance", f"{len(statements)} SLSA v1 statement(s) signed by {key.name}")
    return statements


def _verify_attestation(
    pinned: str, key: Path, access: RegistryAccess, predicate_type: str
) -> _subprocess.Completed:
    """``cosign verify-attestation`` of one predicate type with ``key`` (no transparency log
    offline); the caller reads the exit code and the statements."""
    return cosign.run(
        [
            "verify-attestation",
            f"--key={key}",
            f"--type={predicate_type}",
            "--insecure-ignore-tlog=true",
            pinned,
        ],
        access=access,
        ok_codes=None,
    )


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
    return statement.get("predicateType") == PREDICATE_TYPE and _subject_is(statement, digest)


def _subject_is(statement: dict[str, Any], digest: str | None) -> bool:
    if digest is None:
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
