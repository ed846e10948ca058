"""bandit: Python SAST (the PyCQA AST checks).

Severity: bandit's HIGH/MEDIUM/LOW issue severity maps to high/medium/low; a LOW-confidence
result is lowered one step. Run with ``--ignore-nosec`` so that ``# nosec`` comments are
judged by shiprail (they count only with a reason).

``assert`` (B101) is how pytest tests check things, so it is not reported in test files
(``test_*.py``, ``*_test.py``, ``conftest.py``, anything under a ``tests/`` directory); in
application code it still is, since ``python -O`` strips asserts.
"""

from __future__ import annotations

from pathlib import Path

from shiprail import _subprocess
from shiprail.findings import Category, Finding, Rule, Severity
from shiprail.scan.scanners._util import chunks, load_json, rel
from shiprail.scan.scanners.interface import Scanner

_LEVELS = {"HIGH": Severity.high, "MEDIUM": Severity.medium, "LOW": Severity.low}
ASSERT_RULE = "B101"


def is_test_file(path: str) -> bool:
    """True for pytest's files: where ``assert`` is the point, not a weakness."""
    parts = Path(path).parts
    name = parts[-1] if parts else ""
    return (
        "tests" in parts[:-1]
        or name.startswith("test_")
        or name.endswith("_test.py")
        or name == "conftest.py"
    )


class BanditScanner(Scanner):
    name = "bandit"
    category = Category.sast
    binary = "bandit"
    min_version = "1.7"
    patterns = ("*.py",)
    severity_doc = "HIGH->high, MEDIUM->medium, LOW->low; LOW confidence lowers one step"

    def scan(self, root: Path, files: list[Path]) -> list[Finding]:
        findings: list[Finding] = []
        for batch in chunks(files):
            result = _subprocess.run(
                ["bandit", "-f", "json", "-q", "--ignore-nosec", *batch],
                cwd=root,
                timeout=self.timeout,
                ok_codes=(0, 1),
            )
            data = load_json("bandit", result.stdout)
            for item in data.get("results", []):
                if item["test_id"] == ASSERT_RULE and is_test_file(rel(root, item["filename"])):
                    continue
                severity = _LEVELS.get(item.get("issue_severity", ""), Severity.medium)
                if item.get("issue_confidence") == "LOW":
                    severity = severity.lower()
                cwe = item.get("issue_cwe") or {}
                rule = Rule(
                    id=item["test_id"],
                    name=item.get("test_name", item["test_id"]),
                    description=item.get("issue_text", ""),
                    help_uri=item.get("more_info"),
                    help_text=f"bandit {item['test_id']} ({item.get('test_name', '')})"
                    + (f", CWE-{cwe['id']}" if cwe.get("id") else ""),
                )
                lines = item.get("line_range") or [item.get("line_number", 1)]
                findings.append(
                    Finding(
                        tool=self.name,
                        rule=rule,
                        severity=severity,
                        message=item.get("issue_text", rule.name),
                        path=rel(root, item["filename"]),
                        start_line=int(item.get("line_number") or 1),
                        end_line=int(max(lines)),
                        properties={"confidence": str(item.get("issue_confidence", "")).lower()},
                    )
                )
        return findings
