"""detect-secrets: hard-coded secrets in the working tree (no verification calls).

Run with ``--all-files`` (inside git it would otherwise only see tracked files),
``--no-verify`` (never contact the services the secrets belong to) and without the inline
allowlist filter, so ``pragma: allowlist secret`` is judged by shiprail (reason required).

Severity: private keys critical; secrets with a recognisable format (cloud, GitHub, Slack,
Stripe, JWT, ...) high; heuristics (high-entropy strings, keyword assignments) medium.
"""

from __future__ import annotations

from pathlib import Path

from shiprail import _subprocess
from shiprail.findings import Category, Finding, Rule, Severity
from shiprail.scan.scanners._util import chunks, load_json, rel
from shiprail.scan.scanners.interface import Scanner

_HEURISTIC = {
    "Base64 High Entropy String",
    "Hex High Entropy String",
    "Secret Keyword",
    "Basic Auth Credentials",
}
_FILTER_ALLOWLIST = "detect_secrets.filters.allowlist.is_line_allowlisted"


def _rule_id(kind: str) -> str:
    return "detect-secrets." + "-".join(kind.lower().split())


class DetectSecretsScanner(Scanner):
    name = "detect-secrets"
    category = Category.secrets
    binary = "detect-secrets"
    min_version = "1.4"
    patterns = ("*",)
    severity_doc = "private key critical; known formats high; entropy/keyword heuristics medium"
    startup_seconds = 1.0
    seconds_per_mb = 1.8
    per_file = True

    def scan(self, root: Path, files: list[Path]) -> list[Finding]:
        findings: list[Finding] = []
        for batch in chunks(files):
            result = _subprocess.run(
                [
                    "detect-secrets",
                    "scan",
                    "--all-files",
                    "--no-verify",
                    "--disable-filter",
                    _FILTER_ALLOWLIST,
                    *batch,
                ],
                cwd=root,
                timeout=self.timeout,
            )
            data = load_json("detect-secrets", result.stdout)
            for filename, items in (data.get("results") or {}).items():
                for item in items:
                    kind = item.get("type", "Secret")
                    if kind == "Private Key":
                        severity = Severity.critical
                    elif kind in _HEURISTIC:
                        severity = Severity.medium
                    else:
                        severity = Severity.high
                    rule = Rule(
                        id=_rule_id(kind),
                        name=kind,
                        description=f"{kind} committed to the repository",
                        help_uri="https://github.com/Yelp/detect-secrets",
                        help_text="Remove the secret, rotate it, and load it from the "
                        "environment or a secret store.",
                    )
                    findings.append(
                        Finding(
                            tool=self.name,
                            rule=rule,
                            severity=severity,
                            message=f"possible {kind.lower()} (value not shown)",
                            path=rel(root, filename),
                            start_line=int(item.get("line_number") or 1),
                        )
                    )
        return findings
