"""bandit: Python SAST (the PyCQA AST checks).

Severity: bandit's HIGH/MEDIUM/LOW issue severity maps to high/medium/low; a LOW-confidence
result is lowered one step. Run with ``--ignore-nosec`` so that ``# nosec`` comments are
judged by shiprail (they count only with a reason).

``assert`` (B101) is how pytest tests check things, so it is not reported in test files
(``test_*.py``, ``*_test.py``, ``conftest.py``, anything under a ``tests/`` directory); in
application code it still is, since ``python -O`` strips asserts.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from shiprail import _subprocess
from shiprail.findings import Category, Finding, Rule, Severity, read_line
from shiprail.scan.fingerprint import normalise
from shiprail.scan.scanners._util import chunks, load_json, rel
from shiprail.scan.scanners.interface import Scanner

_LEVELS = {"HIGH": Severity.high, "MEDIUM": Severity.medium, "LOW": Severity.low}
ASSERT_RULE = "B101"
#: Hard-coded password checks, whose text quotes the password ("Possible hardcoded password:
#: 'value'"): the value is cut from the message and only a digest of the line is kept (as for
#: the secrets scanners), so no report or cache copies the secret.
PASSWORD_RULES = frozenset({"B105", "B106", "B107"})
_QUOTED_VALUE = re.compile(r":\s*'.*'\s*$", re.DOTALL)


def without_value(text: str) -> str:
    """bandit's text with the quoted value replaced by ``(value not shown)``."""
    return _QUOTED_VALUE.sub(" (value not shown)", text)


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
    startup_seconds = 0.5
    seconds_per_mb = 3.9
    per_file = True

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
                secret = item["test_id"] in PASSWORD_RULES
                if secret:
                    item["issue_text"] = without_value(str(item.get("issue_text", "")))
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
                path, line = rel(root, item["filename"]), int(item.get("line_number") or 1)
                findings.append(
                    Finding(
                        tool=self.name,
                        rule=rule,
                        severity=severity,
                        message=item.get("issue_text", rule.name),
                        path=path,
                        start_line=line,
                        end_line=int(max(lines)),
                        properties={"confidence": str(item.get("issue_confidence", "")).lower()},
                        snippet=_line_digest(root, path, line) if secret else None,
                    )
                )
        return findings


def _line_digest(root: Path, path: str, line: int) -> str:
    """The engine's recipe for a line holding a secret: a digest, stable across re-indents."""
    text = normalise(read_line(root, path, line) or "")
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
