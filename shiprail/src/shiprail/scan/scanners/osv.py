"""Offline dependency audit: pinned requirements and installed environments checked against
a local OSV directory (a snapshot of the PyPA advisory database).

Versions are compared with ``packaging`` (never as strings): a version is affected when it
is listed in an advisory's ``versions`` or falls in one of its ``ECOSYSTEM`` ranges
(``introduced`` <= v < ``fixed``, or <= ``last_affected``). The report names the data's
source and snapshot date, because a snapshot misses newer advisories.

Severity: the advisory's own ``database_specific.severity`` when present (critical/high/
moderate/low), else high - a published advisory for the exact pinned version.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from shiprail.errors import ToolMissing
from shiprail.findings import Category, Finding, Rule, Severity
from shiprail.scan.scanners.interface import Scanner, ScanNote, match_files

_PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*===?\s*([^\s;#\\]+)")
_SEVERITY = {
    "critical": Severity.critical,
    "high": Severity.high,
    "moderate": Severity.medium,
    "medium": Severity.medium,
    "low": Severity.low,
}

if TYPE_CHECKING:
    from shiprail.scan.settings import ScanSettings


@dataclass(frozen=True)
class Pin:
    name: str
    version: str
    path: str
    line: int
    text: str


def parse_requirements(root: Path, path: Path) -> list[Pin]:
    """``name==version`` pins in a requirements/lock file (hashes, markers, comments skipped)."""
    pins = []
    try:
        lines = (root / path).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    for number, line in enumerate(lines, start=1):
        match = _PIN.match(line)
        if match:
            pins.append(Pin(match.group(1), match.group(2), path.as_posix(), number, line.strip()))
    return pins


def installed(root: Path, env: Path) -> list[Pin]:
    """Distributions installed in a virtual environment (read from their metadata files)."""
    pins = []
    for meta in sorted(env.glob("lib/python*/site-packages/*.dist-info/METADATA")):
        name = version = None
        with meta.open(encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.startswith("Name:"):
                    name = line.split(":", 1)[1].strip()
                elif line.startswith("Version:"):
                    version = line.split(":", 1)[1].strip()
                if (name and version) or not line.strip():
                    break
        if name and version:
            try:
                shown = meta.relative_to(root).as_posix()
            except ValueError:
                shown = meta.as_posix()
            pins.append(Pin(name, version, shown, 1, f"{name}=={version}"))
    return pins


def _v(text: str) -> Version | None:
    try:
        return Version(str(text))
    except InvalidVersion:
        return None


def affects(advisory: dict[str, Any], name: str, version: str) -> bool:
    """True when ``version`` of ``name`` is affected by the OSV ``advisory``."""
    if advisory.get("withdrawn"):
        return False
    target = _v(version)
    for affected in advisory.get("affected") or []:
        package = affected.get("package") or {}
        if package.get("ecosystem", "PyPI") != "PyPI":
            continue
        if canonicalize_name(str(package.get("name", ""))) != canonicalize_name(name):
            continue
        listed = {_v(v) for v in affected.get("versions") or []}
        if target is not None and target in listed:
            return True
        if target is None:
            continue
        for rng in affected.get("ranges") or []:
            if rng.get("type") != "ECOSYSTEM":
                continue
            if _in_range(target, rng.get("events") or []):
                return True
    return False


def _in_range(target: Version, events: list[dict[str, Any]]) -> bool:
    introduced: Version | None = None
    affected = False
    for event in events:
        if "introduced" in event:
            raw = str(event["introduced"])
            introduced = Version("0") if raw == "0" else _v(raw)
        elif "fixed" in event and introduced is not None:
            fixed = _v(str(event["fixed"]))
            if fixed is not None and introduced <= target < fixed:
                affected = True
            introduced = None
        elif "last_affected" in event and introduced is not None:
            last = _v(str(event["last_affected"]))
            if last is not None and introduced <= target <= last:
                affected = True
            introduced = None
    if introduced is not None and introduced <= target:
        affected = True
    return affected


def fixed_versions(advisory: dict[str, Any], name: str) -> list[str]:
    out: list[str] = []
    for affected in advisory.get("affected") or []:
        if canonicalize_name(str((affected.get("package") or {}).get("name", ""))) != (
            canonicalize_name(name)
        ):
            continue
        for rng in affected.get("ranges") or []:
            out.extend(str(e["fixed"]) for e in rng.get("events") or [] if "fixed" in e)
    return out


class AdvisoryDB:
    """An OSV directory laid out as ``<package>/<ID>.yaml|json`` (PyPA advisory database)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._dirs: dict[str, Path] | None = None

    def _index(self) -> dict[str, Path]:
        if self._dirs is None:
            self._dirs = {canonicalize_name(d.name): d for d in self.path.iterdir() if d.is_dir()}
        return self._dirs

    def advisories(self, name: str) -> list[dict[str, Any]]:
        folder = self._index().get(canonicalize_name(name))
        if folder is None:
            return []
        out: list[dict[str, Any]] = []
        for file in sorted(folder.iterdir()):
            if file.suffix in {".yaml", ".yml"}:
                data = yaml.safe_load(file.read_text(encoding="utf-8"))
            elif file.suffix == ".json":
                data = json.loads(file.read_text(encoding="utf-8"))
            else:
                continue
            if isinstance(data, dict):
                out.append(data)
        return out

    def source_file(self) -> Path | None:
        """The SOURCE file scripts/fetch-data.sh writes beside the data (pin and origin)."""
        for folder in (self.path, *self.path.parents[:3]):
            if (folder / "SOURCE").is_file():
                return folder / "SOURCE"
        return None

    def describe(self) -> str:
        """Source and snapshot date of the data, for the report."""
        source = self.source_file()
        if source is None:
            return f"OSV directory {self.path} (origin and date unknown: no SOURCE file)"
        fields = dict(
            line.split(":", 1)
            for line in source.read_text(encoding="utf-8").splitlines()
            if ":" in line
        )
        origin = fields.get("source", "unknown").strip()
        date = re.search(r"\d{4}-\d{2}-\d{2}", origin)
        return f"{origin.split(' (')[0]}, snapshot of {date.group(0) if date else 'unknown date'}"


class OsvScanner(Scanner):
    name = "osv"
    category = Category.dependencies
    binary = ""
    min_version = None
    severity_doc = "advisory severity (critical/high/moderate/low) when given, else high"

    def __init__(
        self,
        db: Path | None = None,
        requirement_globs: tuple[str, ...] = ("requirements*.txt", "requirements*.lock"),
        environments: tuple[Path, ...] = (),
    ) -> None:
        self.db_path = db or Path(".cache/data/advisory-db/pypa/vulns")
        self.patterns = requirement_globs
        self.environments = environments
        self._notes: list[ScanNote] = []

    @classmethod
    def from_settings(cls, settings: ScanSettings) -> Scanner:
        deps = settings.config.dependencies
        envs = tuple(settings.resolve(e, prefer_root=True) for e in deps.environments)
        return cls(settings.advisory_db(), tuple(deps.requirements), envs)

    def version_command(self) -> list[str] | None:
        return None

    def cache_key_extra(self) -> dict[str, Any]:
        installed_now = sorted(
            p.name
            for env in self.environments
            for p in env.glob("lib/python*/site-packages/*.dist-info")
        )
        return {
            "db": str(self.db_path),
            "globs": list(self.patterns),
            "environments": [str(e) for e in self.environments],
            "installed": installed_now,
        }

    def config_inputs(self, root: Path) -> list[Path]:
        source = AdvisoryDB(self.db_path).source_file()
        return [source] if source else [self.db_path]  # unpinned data: hash it all

    def applies_to(self, root: Path, files: list[Path]) -> list[Path]:
        matched = match_files(files, self.patterns)
        envs = [e / "pyvenv.cfg" for e in self.environments if (e / "pyvenv.cfg").is_file()]
        return matched + envs

    def scan(self, root: Path, files: list[Path]) -> list[Finding]:
        if not self.db_path.is_dir():
            raise ToolMissing(
                f"advisory database ({self.db_path})",
                "scripts/fetch-data.sh advisory-db   # or set SHIPRAIL_ADVISORY_DB",
            )
        db = AdvisoryDB(self.db_path)
        pins: list[Pin] = []
        for f in files:
            if f.name != "pyvenv.cfg" and (root / f).is_file():
                pins.extend(parse_requirements(root, f))
        for env in self.environments:
            pins.extend(installed(root, env))
        findings = audit(db, pins, self.name)
        self._notes = [
            ScanNote(
                self.name,
                f"dependencies checked offline against {db.describe()}; "
                f"{len(pins)} pinned package version(s) audited",
            )
        ]
        return findings

    def notes(self) -> list[ScanNote]:
        return self._notes


def audit(db: AdvisoryDB, pins: list[Pin], tool: str = OsvScanner.name) -> list[Finding]:
    """Every advisory of ``db`` affecting one of ``pins``, as findings of ``tool``.

    Shared by ``shiprail scan`` (pins from requirement files and environments) and the image
    scan (pins from the image's SBOM), so both judge Python packages the same way.
    """
    findings = []
    for pin in pins:
        for advisory in db.advisories(pin.name):
            if affects(advisory, pin.name, pin.version):
                findings.append(advisory_finding(pin, advisory, tool))
    return findings


def advisory_finding(pin: Pin, advisory: dict[str, Any], tool: str) -> Finding:
    """One finding: ``pin`` is affected by the OSV ``advisory``."""
    vid = str(advisory.get("id", "OSV"))
    aliases = [str(a) for a in advisory.get("aliases") or []]
    level = str((advisory.get("database_specific") or {}).get("severity", "")).lower()
    severity = _SEVERITY.get(level, Severity.high)
    fixes = fixed_versions(advisory, pin.name)
    summary = str(advisory.get("summary") or advisory.get("details") or vid)
    summary = summary.strip().split("\n")[0][:300]
    refs = [r.get("url") for r in advisory.get("references") or [] if r.get("url")]
    rule = Rule(
        id=vid,
        name=f"{canonicalize_name(pin.name)}: {vid}",
        description=summary,
        help_uri=f"https://osv.dev/vulnerability/{vid}",
        help_text=(f"Upgrade {pin.name} to {' or '.join(fixes)}. " if fixes else "")
        + ("References: " + ", ".join(refs[:3]) if refs else ""),
    )
    fix = f"; fixed in {', '.join(fixes)}" if fixes else "; no fixed version published"
    alias = f" ({', '.join(aliases[:3])})" if aliases else ""
    return Finding(
        tool=tool,
        rule=rule,
        severity=severity,
        message=f"{pin.name} {pin.version} is affected by {vid}{alias}{fix}",
        path=pin.path,
        start_line=pin.line,
        snippet=pin.text,
        properties={"package": pin.name, "version": pin.version, "aliases": ",".join(aliases)},
    )
