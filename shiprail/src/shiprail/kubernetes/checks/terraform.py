"""The Terraform under ``terraform/`` (clusters, registries, state, CI identities):
``terraform fmt -check`` and checkov's Terraform checks. No provider can be downloaded where
CI runs, so ``init``/``validate``/``plan`` are left to the team's pipeline with cloud
credentials (docs/kubernetes.md)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from shiprail import _subprocess, checkov
from shiprail.errors import ToolCrashed
from shiprail.findings import Finding, Rule, Severity
from shiprail.kubernetes.checks.checkov import policy_of
from shiprail.kubernetes.checks.interface import TOOL, Check, CheckContext, Suppressed

TERRAFORM_TIMEOUT_SECONDS = 120.0
FMT_RULE = Rule("tf-fmt", "Terraform files are formatted", "terraform fmt -check")


def unformatted(root: Path, directory: str) -> list[str] | None:
    """Repo-relative files ``terraform fmt`` would change; None when terraform is absent."""
    if _subprocess.which("terraform") is None:
        return None
    result = _subprocess.run(
        ["terraform", "fmt", "-check", "-recursive", "-list=true", "-no-color", directory],
        cwd=root,
        timeout=TERRAFORM_TIMEOUT_SECONDS,
        ok_codes=None,
    )
    if result.returncode not in (0, 3):
        raise ToolCrashed(f"terraform fmt failed: {result.stderr.strip()[-400:]}")
    return [line.strip() for line in result.stdout.splitlines() if line.strip().endswith(".tf")]


def scan_with_checkov(
    root: Path, directory: str, runner: checkov.Runner | None = None
) -> list[checkov.CheckovResult]:
    """checkov's failed Terraform checks with repo-relative paths (inline ``checkov:skip``
    comments are honoured, as checkov does)."""
    found = checkov.run(root, frameworks=("terraform",), directory=directory, runner=runner)
    prefix = directory.rstrip("/")
    return [dataclasses.replace(r, path=f"{prefix}/{r.path}") for r in found if not r.skipped]


class TerraformCheck(Check):
    name = "terraform"
    tools = ("terraform", "checkov")

    def applies(self, context: CheckContext) -> bool:
        directory = context.config.terraform
        if not (context.include_committed and directory):
            return False
        return (context.root / directory).is_dir()

    def run(self, context: CheckContext) -> list[Finding | Suppressed]:
        directory = context.config.terraform or ""
        out: list[Finding | Suppressed] = list(_fmt_findings(context.root, directory))
        tf_files = sorted((context.root / directory).rglob("*.tf"))
        rels = [p.relative_to(context.root).as_posix() for p in tf_files]
        if not context.use_checkov or all(context.read_elsewhere(r) for r in rels):
            return out
        policy = policy_of(context)
        for problem in scan_with_checkov(context.root, directory, context.checkov_runner):
            out.append(
                Finding(
                    tool=TOOL,
                    rule=Rule(
                        problem.check_id, problem.name, problem.name, help_uri=problem.guideline
                    ),
                    severity=policy.severity_of(problem.check_id),
                    message=f"{problem.check_id} {problem.name}",
                    path=problem.path,
                    start_line=problem.line,
                    snippet=f"{problem.check_id} {problem.path}",
                    properties={"validator": "checkov"},
                )
            )
        return out


def _fmt_findings(root: Path, directory: str) -> list[Finding]:
    files = unformatted(root, directory)
    if files is None:
        return [
            Finding(
                tool=TOOL,
                rule=FMT_RULE,
                severity=Severity.low,
                message="terraform is not installed; formatting was not checked",
                path=directory,
                snippet="terraform missing",
            )
        ]
    out = []
    for rel in files:
        path = rel if rel.startswith(directory) else f"{directory.rstrip('/')}/{rel}"
        out.append(
            Finding(
                tool=TOOL,
                rule=FMT_RULE,
                severity=Severity.medium,
                message=f"{path} is not formatted (run: terraform fmt -recursive {directory})",
                path=path,
                snippet=f"fmt {path}",
            )
        )
    return out
