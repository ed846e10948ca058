"""The EKS and AKS modules under ``terraform/``: ``terraform fmt -check`` and checkov's
Terraform checks. No provider can be downloaded where CI runs, so ``init``/``validate``/
``plan`` are left to the team's pipeline with cloud credentials (docs/kubernetes.md)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from shiprail import _subprocess
from shiprail.errors import ToolCrashed

TERRAFORM_TIMEOUT_SECONDS = 120.0
CHECKOV_TIMEOUT_SECONDS = 600.0


@dataclass(frozen=True)
class TerraformProblem:
    check_id: str
    title: str
    path: str  # repo-relative
    line: int
    guideline: str | None = None


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


def checkov(root: Path, directory: str) -> list[TerraformProblem]:
    """checkov's Terraform checks (inline ``checkov:skip`` comments with reasons honoured)."""
    result = _subprocess.run(
        [
            "checkov",
            "-d",
            directory,
            "--framework",
            "terraform",
            "--skip-download",
            "-o",
            "json",
            "--quiet",
            "--compact",
        ],
        cwd=root,
        timeout=CHECKOV_TIMEOUT_SECONDS,
        ok_codes=None,
        install_hint="scripts/install-tools.sh checkov",
    )
    if result.returncode not in (0, 1):
        raise ToolCrashed(f"checkov exited with {result.returncode}: {result.stderr[-400:]}")
    try:
        payload = json.loads(result.stdout) if result.stdout.strip() else {}
    except json.JSONDecodeError as exc:
        raise ToolCrashed(f"checkov printed invalid JSON: {exc}") from exc
    reports = payload if isinstance(payload, list) else [payload]
    problems = []
    for report in reports:
        for check in (report.get("results") or {}).get("failed_checks") or []:
            file_path = str(check.get("file_path", "")).lstrip("/")
            lines = check.get("file_line_range") or [1]
            problems.append(
                TerraformProblem(
                    str(check.get("check_id")),
                    str(check.get("check_name")),
                    f"{directory.rstrip('/')}/{file_path}",
                    int(lines[0] or 1),
                    check.get("guideline"),
                )
            )
    return problems
