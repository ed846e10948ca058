"""semgrep: Python SAST with our own rules (``policies/semgrep/``), plus the rules we keep
for Dockerfiles and compose files.

Runs fully offline: local rules only, ``--metrics=off`` and ``--disable-version-check``
(without it every run waits on the network). ``--disable-nosem`` makes ``# nosemgrep``
comments reach shiprail, which accepts them only with a reason.

Severity: a rule's ``metadata.severity`` (critical/high/medium/low) wins; otherwise
ERROR->high, WARNING->medium, INFO->low. A rule's ``metadata.category`` sets the finding's
category (compose rules are iac, Dockerfile rules container).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from shiprail import _subprocess
from shiprail.errors import ToolCrashed, UsageError
from shiprail.findings import Category, Finding, Rule, Severity
from shiprail.scan.scanners._util import chunks, load_json, rel
from shiprail.scan.scanners.interface import Scanner

_LEVELS = {"ERROR": Severity.high, "WARNING": Severity.medium, "INFO": Severity.low}

if TYPE_CHECKING:
    from shiprail.scan.settings import ScanSettings


class SemgrepScanner(Scanner):
    name = "semgrep"
    category = Category.sast
    binary = "semgrep"
    min_version = "1.50"
    patterns = ("*.py", "Dockerfile", "Dockerfile.*", "*.Dockerfile", "*.yml", "*.yaml")
    env = {"SEMGREP_SEND_METRICS": "off", "SEMGREP_ENABLE_VERSION_CHECK": "0"}
    severity_doc = "metadata.severity wins; else ERROR->high, WARNING->medium, INFO->low"
    startup_seconds = 3.0
    seconds_per_mb = 4.2
    per_file = True

    def __init__(self, rules: Path | None = None) -> None:
        self.rules = rules or Path("policies/semgrep")

    @classmethod
    def from_settings(cls, settings: ScanSettings) -> Scanner:
        return cls(settings.semgrep_rules())

    def _rule_files(self) -> list[Path]:
        if self.rules.is_file():
            return [self.rules]
        return sorted(p for p in self.rules.rglob("*") if p.suffix in {".yml", ".yaml"})

    def config_inputs(self, root: Path) -> list[Path]:
        return self._rule_files()

    def applies_to(self, root: Path, files: list[Path]) -> list[Path]:
        return super().applies_to(root, files) if self._rule_files() else []

    def scan(self, root: Path, files: list[Path]) -> list[Finding]:
        if not self._rule_files():
            raise UsageError(f"no Semgrep rules found in {self.rules}")
        findings: list[Finding] = []
        for batch in chunks(files):
            result = _subprocess.run(
                [
                    "semgrep",
                    "scan",
                    "--config",
                    str(self.rules.resolve()),
                    "--metrics=off",
                    "--disable-version-check",
                    "--disable-nosem",
                    "--no-git-ignore",
                    "--json",
                    "--quiet",
                    "--timeout",
                    "30",
                    *batch,
                ],
                cwd=root,
                timeout=self.timeout,
                env=self.env,
                ok_codes=(0, 1),
            )
            data = load_json("semgrep", result.stdout)
            fatal = [e for e in data.get("errors", []) if e.get("level") == "error"]
            if fatal and not data.get("results") and result.returncode != 0:
                raise ToolCrashed(f"semgrep failed: {fatal[0].get('message', fatal[0])}")
            findings.extend(self._finding(root, item) for item in data.get("results", []))
        return findings

    def _finding(self, root: Path, item: dict[str, Any]) -> Finding:
        extra = item.get("extra", {})
        meta = extra.get("metadata", {}) or {}
        rule_id = str(item["check_id"]).rsplit(".", 1)[-1]
        severity = (
            Severity(meta["severity"])
            if meta.get("severity") in Severity.__members__
            else _LEVELS.get(extra.get("severity", ""), Severity.medium)
        )
        category = (
            Category(meta["category"]) if meta.get("category") in Category.__members__ else None
        )
        refs = meta.get("references") or []
        rule = Rule(
            id=rule_id,
            name=meta.get("name", rule_id),
            description=meta.get("description", extra.get("message", rule_id)),
            help_uri=refs[0] if refs else None,
            help_text=meta.get("fix", extra.get("message")),
        )
        cwe = meta.get("cwe")
        return Finding(
            tool=self.name,
            rule=rule,
            severity=severity,
            message=extra.get("message", rule_id).strip(),
            path=rel(root, item["path"]),
            start_line=int(item.get("start", {}).get("line", 1)),
            end_line=int(item.get("end", {}).get("line", 1)),
            properties={"cwe": str(cwe[0] if isinstance(cwe, list) and cwe else cwe or "")},
            category=category,
        )
