"""checkov: IaC and configuration - Terraform, Kubernetes manifests, Dockerfiles and GitHub
Actions workflows (compose files are covered by our Semgrep rules: checkov has no compose
framework).

checkov is run and parsed by :mod:`shiprail.checkov`, whose ``SEVERITIES`` table gives our
severity (offline checkov reports none; anything not listed: medium). A
``#checkov:skip=ID:reason`` comment counts only with a reason; a bare skip is reported as
an open finding.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from shiprail import checkov
from shiprail.findings import Category, Finding, Rule
from shiprail.scan.scanners._util import rel
from shiprail.scan.scanners.interface import Scanner, match_files

_CATEGORY = {
    "dockerfile": Category.container,
    "github_actions": Category.workflow,
}
_K8S = re.compile(r"^apiVersion:\s*\S+", re.MULTILINE)
_KIND = re.compile(r"^kind:\s*\S+", re.MULTILINE)


class CheckovScanner(Scanner):
    name = "checkov"
    category = Category.iac
    binary = "checkov"
    min_version = "3.0"
    patterns = (
        "*.tf",
        "*.tf.json",
        "Dockerfile",
        "Dockerfile.*",
        "*.Dockerfile",
        ".github/workflows/*.yml",
        ".github/workflows/*.yaml",
    )
    frameworks = ("terraform", "kubernetes", "dockerfile", "github_actions")
    severity_doc = "our table (checkov.SEVERITIES) by check id; unlisted checks medium"
    startup_seconds = 10.0
    seconds_per_mb = 1.0

    def __init__(self, runner: checkov.Runner | None = None) -> None:
        self.runner = runner

    def applies_to(self, root: Path, files: list[Path]) -> list[Path]:
        return sorted(f for f in files if self.reads(root, f))

    @classmethod
    def reads(cls, root: Path, path: Path) -> bool:
        """True when this scanner reads the repo-relative ``path`` (the kubernetes scanner
        leaves such files to it)."""
        if match_files([path], cls.patterns):
            return True
        return path.suffix in {".yml", ".yaml"} and cls._is_manifest(root / path)

    @staticmethod
    def _is_manifest(path: Path) -> bool:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")[:20000]
        except OSError:
            return False
        # Helm templates are rendered by the kubernetes scanner, not parsed raw here
        return bool(_K8S.search(text) and _KIND.search(text)) and "{{" not in text

    def cache_key_extra(self) -> dict[str, Any]:
        return {"severities": {k: v.value for k, v in checkov.SEVERITIES.items()}}

    def scan(self, root: Path, files: list[Path]) -> list[Finding]:
        results = checkov.run(
            root,
            frameworks=self.frameworks,
            files=[f.as_posix() for f in files],
            timeout=self.timeout,
            runner=self.runner,
        )
        return [self._finding(root, result) for result in results]

    def _finding(self, root: Path, result: checkov.CheckovResult) -> Finding:
        rule = Rule(
            id=result.check_id,
            name=result.check_id,
            description=result.name,
            help_uri=result.guideline,
            help_text=f"checkov {result.check_id}: {result.name}",
        )
        props = {"resource": result.resource}
        message = result.name
        if result.skipped and result.skip_reason:
            props["suppression"] = f"checkov:skip - {result.skip_reason}"
        elif result.skipped:
            message += " (a checkov:skip without a reason does not count)"
        return Finding(
            tool=self.name,
            rule=rule,
            severity=checkov.severity_of(result.check_id),
            message=f"{message} [{result.resource}]",
            path=rel(root, result.path),
            start_line=result.line,
            end_line=result.end_line,
            properties=props,
            category=_CATEGORY.get(result.check_type, Category.iac),
        )
