"""pip-audit: dependency audit against PyPI's live vulnerability data (online only).

It complements the offline OSV snapshot (``osv``) with advisories published since the
snapshot. When its service cannot be reached, the report says so and the offline results
stand; it is skipped entirely in offline mode.

Severity: high for every known vulnerability (pip-audit reports no severity).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from shiprail import _subprocess
from shiprail.findings import Category, Finding, Rule, Severity, read_line
from shiprail.scan.scanners._util import load_json
from shiprail.scan.scanners.interface import Scanner, ScanNote
from shiprail.scan.scanners.osv import parse_requirements

if TYPE_CHECKING:
    from shiprail.scan.settings import ScanSettings


class PipAuditScanner(Scanner):
    name = "pip-audit"
    category = Category.dependencies
    binary = "pip-audit"
    offline = False
    min_version = "2.6"
    severity_doc = "high for every known vulnerability (no severity from the service)"
    startup_seconds = 5.0
    seconds_per_mb = 1.0

    def __init__(self, requirement_globs: tuple[str, ...] = ("requirements*.txt",)) -> None:
        self.patterns = requirement_globs
        self._notes: list[ScanNote] = []

    @classmethod
    def from_settings(cls, settings: ScanSettings) -> Scanner:
        return cls(tuple(settings.config.dependencies.requirements))

    def scan(self, root: Path, files: list[Path]) -> list[Finding]:
        findings: list[Finding] = []
        unaudited = audited = 0
        for f in files:
            pins = {p.name.lower(): p for p in parse_requirements(root, f)}
            if not pins:
                continue
            result = _subprocess.run(
                [
                    "pip-audit",
                    "-r",
                    f.as_posix(),
                    "--no-deps",
                    "--disable-pip",
                    "-f",
                    "json",
                    "--progress-spinner",
                    "off",
                ],
                cwd=root,
                timeout=self.timeout,
                ok_codes=(0, 1),
            )
            data = load_json("pip-audit", result.stdout)
            for dep in data.get("dependencies", []):
                if dep.get("skip_reason"):
                    unaudited += 1
                    continue
                audited += 1
                pin = pins.get(str(dep.get("name", "")).lower())
                for vuln in dep.get("vulns", []):
                    findings.append(self._finding(root, f, dep, vuln, pin.line if pin else 1))
        if unaudited:
            self._notes = [
                ScanNote(
                    self.name,
                    f"pip-audit could not audit {unaudited} package(s) (its vulnerability "
                    "service was not reachable); the offline OSV results stand for them",
                )
            ]
        return findings

    def notes(self) -> list[ScanNote]:
        return self._notes

    def _finding(
        self, root: Path, path: Path, dep: dict[str, Any], vuln: dict[str, Any], line: int
    ) -> Finding:
        vid = str(vuln.get("id"))
        fixes = [str(v) for v in vuln.get("fix_versions") or []]
        rule = Rule(
            id=vid,
            name=f"{dep.get('name')}: {vid}",
            description=str(vuln.get("description") or vid).split("\n")[0][:300],
            help_uri=f"https://osv.dev/vulnerability/{vid}",
            help_text=f"Upgrade {dep.get('name')} to {' or '.join(fixes)}." if fixes else None,
        )
        fix = f"; fixed in {', '.join(fixes)}" if fixes else ""
        return Finding(
            tool=self.name,
            rule=rule,
            severity=Severity.high,
            message=f"{dep.get('name')} {dep.get('version')} is affected by {vid}{fix}",
            path=path.as_posix(),
            start_line=line,
            snippet=read_line(root, path.as_posix(), line),
            properties={"package": str(dep.get("name")), "version": str(dep.get("version"))},
        )
