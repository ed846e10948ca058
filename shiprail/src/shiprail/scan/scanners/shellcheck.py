"""shellcheck: shell scripts (``*.sh``, ``*.bash`` and files starting with a sh/bash shebang).

Warnings and errors only (``--severity=warning``): style notes do not belong in a gate.
Severity: shellcheck ``error`` -> medium, ``warning`` -> low; SC2086/SC2046 (unquoted
expansion, the injection-shaped ones) medium.
"""

from __future__ import annotations

import re
from pathlib import Path

from shiprail import _subprocess
from shiprail.findings import Category, Finding, Rule, Severity
from shiprail.scan.scanners._util import chunks, first_line, load_json, rel
from shiprail.scan.scanners.interface import Scanner, match_files

_SHEBANG = re.compile(r"^#!\s*/(?:usr/)?bin/(?:env\s+)?(?:ba|da|k)?sh\b")
_RAISED = {"SC2086": Severity.medium, "SC2046": Severity.medium}


class ShellcheckScanner(Scanner):
    name = "shellcheck"
    category = Category.shell
    binary = "shellcheck"
    min_version = "0.8"
    patterns = ("*.sh", "*.bash")
    severity_doc = "error->medium, warning->low; SC2086/SC2046 medium"
    per_file = True

    def applies_to(self, root: Path, files: list[Path]) -> list[Path]:
        out = match_files(files, self.patterns)
        for f in files:
            if not f.suffix and f not in out and _SHEBANG.match(first_line(root, f)):
                out.append(f)
        return sorted(out)

    def scan(self, root: Path, files: list[Path]) -> list[Finding]:
        findings: list[Finding] = []
        for batch in chunks(files):
            result = _subprocess.run(
                ["shellcheck", "-f", "json1", "--severity=warning", "-x", *batch],
                cwd=root,
                timeout=self.timeout,
                ok_codes=(0, 1),
            )
            data = load_json("shellcheck", result.stdout or '{"comments": []}')
            for item in data.get("comments", []):
                code = f"SC{item.get('code')}"
                level = str(item.get("level", "warning"))
                severity = _RAISED.get(code, Severity.medium if level == "error" else Severity.low)
                rule = Rule(
                    id=code,
                    name=code,
                    description=str(item.get("message", code)),
                    help_uri=f"https://www.shellcheck.net/wiki/{code}",
                )
                findings.append(
                    Finding(
                        tool=self.name,
                        rule=rule,
                        severity=severity,
                        message=str(item.get("message", code)),
                        path=rel(root, str(item.get("file", ""))),
                        start_line=int(item.get("line") or 1),
                        end_line=int(item.get("endLine") or item.get("line") or 1),
                    )
                )
        return findings
