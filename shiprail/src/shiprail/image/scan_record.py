"""The result of one image scan, kept beside the SBOM and signed into the registry.

``shiprail image scan`` writes what each scanner found, before any waiver, to
``<sbom_dir>/<digest>.scan.json``. ``shiprail publish`` attaches that record to the image as a
signed attestation (cosign's ``vuln`` type), and every verification reads it back from the
registry and judges it again, with the waivers and the date of that moment: a waiver lets a
known advisory through until it expires, and stops doing so the day after, wherever the image
is deployed - without the registry's copy being trusted over the signature.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shiprail.errors import UsageError
from shiprail.findings import Category, Finding, Rule, Severity
from shiprail.scan.engine import ScannerRun

#: cosign's predicate type for vulnerability scan results (``cosign attest --type vuln``).
SCAN_TYPE = "vuln"
SCAN_PREDICATE_TYPE = "https://cosign.sigstore.dev/attestation/vuln/v1"
TRIVY_URI = "pkg:golang/github.com/aquasecurity/trivy"


@dataclass(frozen=True)
class ScanRecord:
    image: str
    #: the image id (config digest) the scan read
    digest: str
    sbom_sha256: str
    started: str
    finished: str
    runs: tuple[ScannerRun, ...]

    def predicate(self, scanner_version: str = "") -> dict[str, Any]:
        """cosign's vuln predicate; ``scanner.result`` holds this record."""
        return {
            "invocation": {"parameters": None, "uri": "", "event_id": "", "builder.id": ""},
            "scanner": {
                "uri": TRIVY_URI,
                "version": scanner_version,
                "db": {"uri": "", "version": ""},
                "result": {"shiprail": self.as_json()},
            },
            "metadata": {"scanStartedOn": self.started, "scanFinishedOn": self.finished},
        }

    def as_json(self) -> dict[str, Any]:
        return {
            "image": self.image,
            "digest": self.digest,
            "sbom_sha256": self.sbom_sha256,
            "started": self.started,
            "finished": self.finished,
            "runs": [_run_json(run) for run in self.runs],
        }


def _run_json(run: ScannerRun) -> dict[str, Any]:
    return {
        "name": run.name,
        "category": run.category.value,
        "status": run.status,
        "reason": run.reason,
        "findings": [dataclasses.asdict(f) for f in run.findings],
    }


def _finding(data: dict[str, Any]) -> Finding:
    return Finding(
        **{
            **data,
            "rule": Rule(**data["rule"]),
            "severity": Severity(data["severity"]),
            "category": Category(data["category"]) if data.get("category") else None,
        }
    )


def from_json(data: dict[str, Any]) -> ScanRecord:
    """The record a scan wrote or an attestation carried; ValueError when malformed."""
    try:
        runs = tuple(
            ScannerRun(
                name=run["name"],
                category=Category(run["category"]),
                status=run["status"],
                reason=run.get("reason"),
                findings=[_finding(f) for f in run["findings"]],
            )
            for run in data["runs"]
        )
        return ScanRecord(
            image=str(data["image"]),
            digest=str(data["digest"]),
            sbom_sha256=str(data["sbom_sha256"]),
            started=str(data["started"]),
            finished=str(data["finished"]),
            runs=runs,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"not a shiprail scan record: {exc}") from None


def record_path(sbom_dir: Path, digest: str) -> Path:
    return sbom_dir / f"{digest.replace(':', '-')}.scan.json"


def save(record: ScanRecord, sbom_dir: Path) -> Path:
    """Write the record atomically (a reader never sees half of it)."""
    path = record_path(sbom_dir, record.digest)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(record.as_json(), indent=1))
    partial.replace(path)
    return path


def load(sbom_dir: Path, digest: str, image: str) -> ScanRecord:
    """The stored scan of ``digest``; a usage error tells how to make one."""
    path = record_path(sbom_dir, digest)
    try:
        return from_json(json.loads(path.read_text()))
    except FileNotFoundError:
        raise UsageError(
            f"{image} ({digest[:19]}) has not been scanned",
            hint=f"shiprail image scan {image}",
        ) from None
    except ValueError as exc:
        raise UsageError(
            f"{path}: {exc}", hint=f"scan it again: shiprail image scan {image}"
        ) from None


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
