"""hadolint: Dockerfile best practices (and the shell inside ``RUN``).

Severity: hadolint ``error`` -> high, ``warning`` -> medium, ``info``/``style`` -> low;
DL3002 (last USER is root) is raised to high, because a root container is what a breakout
needs.
"""

from __future__ import annotations

from pathlib import Path

from shiprail import _subprocess
from shiprail.findings import Category, Finding, Rule, Severity
from shiprail.scan.scanners._util import chunks, load_json, rel
from shiprail.scan.scanners.interface import Scanner

_LEVELS = {"error": Severity.high, "warning": Severity.medium}
_RAISED = {"DL3002": Severity.high}


class HadolintScanner(Scanner):
    name = "hadolint"
    category = Category.container
    binary = "hadolint"
    tool = "hadolint"
    min_version = "2.10"
    patterns = ("Dockerfile", "Dockerfile.*", "*.Dockerfile", "Containerfile")
    severity_doc = "error->high, warning->medium, info/style->low; DL3002 (root) high"
    per_file = True

    def scan(self, root: Path, files: list[Path]) -> list[Finding]:
        findings: list[Finding] = []
        for batch in chunks(files):
            result = _subprocess.run(
                ["hadolint", "--format", "json", "--no-fail", *batch],
                cwd=root,
                timeout=self.timeout,
                ok_codes=(0, 1),
            )
            for item in load_json("hadolint", result.stdout or "[]"):
                code = str(item.get("code", "hadolint"))
                level = str(item.get("level", "warning"))
                severity = _RAISED.get(code, _LEVELS.get(level, Severity.low))
                wiki = "ShellCheck" if code.startswith("SC") else "hadolint"
                uri = (
                    f"https://www.shellcheck.net/wiki/{code}"
                    if code.startswith("SC")
                    else f"https://github.com/hadolint/hadolint/wiki/{code}"
                )
                rule = Rule(
                    id=code,
                    name=code,
                    description=str(item.get("message", code)),
                    help_uri=uri,
                    help_text=f"{wiki} {code}",
                )
                findings.append(
                    Finding(
                        tool=self.name,
                        rule=rule,
                        severity=severity,
                        message=str(item.get("message", code)),
                        path=rel(root, str(item.get("file", ""))),
                        start_line=int(item.get("line") or 1),
                    )
                )
        return findings
