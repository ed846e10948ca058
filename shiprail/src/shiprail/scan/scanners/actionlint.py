"""actionlint: GitHub Actions workflows - syntax, expressions, and untrusted input
(``${{ github.event.* }}``) interpolated into ``run:`` scripts.

shellcheck and pyflakes integration is switched off here: scripts are the ``shellcheck``
scanner's job, and the output must not depend on what else is installed.

Severity: untrusted input in a script (script injection) high; everything else medium (an
invalid workflow fails or misbehaves in CI).
"""

from __future__ import annotations

from pathlib import Path

from shiprail import _subprocess
from shiprail.findings import Category, Finding, Rule, Severity
from shiprail.scan.scanners._util import chunks, load_json, rel
from shiprail.scan.scanners.interface import Scanner


class ActionlintScanner(Scanner):
    name = "actionlint"
    category = Category.workflow
    binary = "actionlint"
    min_version = "1.6"
    patterns = (".github/workflows/*.yml", ".github/workflows/*.yaml")
    severity_doc = "untrusted input in run: (script injection) high; other errors medium"
    per_file = True

    def scan(self, root: Path, files: list[Path]) -> list[Finding]:
        findings: list[Finding] = []
        for batch in chunks(files):
            result = _subprocess.run(
                ["actionlint", "-format", "{{json .}}", "-shellcheck=", "-pyflakes=", *batch],
                cwd=root,
                timeout=self.timeout,
                ok_codes=(0, 1),
            )
            for item in load_json("actionlint", result.stdout or "[]") or []:
                kind = str(item.get("kind", "actionlint"))
                message = str(item.get("message", kind))
                untrusted = "potentially untrusted" in message
                rule_id = "untrusted-input" if untrusted else kind
                rule = Rule(
                    id=rule_id,
                    name=rule_id,
                    description=(
                        "Untrusted input interpolated into a run: script (script injection)"
                        if untrusted
                        else f"actionlint {kind} check"
                    ),
                    help_uri="https://github.com/rhysd/actionlint/blob/main/docs/checks.md",
                    help_text="Pass untrusted values through env: and quote them in the script."
                    if untrusted
                    else None,
                )
                findings.append(
                    Finding(
                        tool=self.name,
                        rule=rule,
                        severity=Severity.high if untrusted else Severity.medium,
                        message=message,
                        path=rel(root, str(item.get("filepath", ""))),
                        start_line=int(item.get("line") or 1),
                    )
                )
        return findings
