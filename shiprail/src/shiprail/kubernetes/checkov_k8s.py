"""checkov's Kubernetes checks over rendered and committed manifests.

Checkov reports no severities offline, so ``policies/kubernetes/checkov.yaml`` gives each
failed check a severity (``default_severity`` unless listed) and holds the skips, each with a
reason and optionally limited to some environments.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from shiprail import _subprocess
from shiprail.errors import ConfigError, ToolCrashed
from shiprail.kubernetes.manifests import Manifest

CHECKOV_TIMEOUT_SECONDS = 600.0
SEVERITIES = ("critical", "high", "medium", "low")


@dataclass(frozen=True)
class Skip:
    id: str
    reason: str
    environments: tuple[str, ...] = ()

    def covers(self, check_id: str, environment: str) -> bool:
        return self.id == check_id and (not self.environments or environment in self.environments)


@dataclass(frozen=True)
class CheckovPolicy:
    default_severity: str = "medium"
    severity: dict[str, str] = field(default_factory=dict)
    skip: tuple[Skip, ...] = ()

    def severity_of(self, check_id: str) -> str:
        return self.severity.get(check_id, self.default_severity)

    def skip_for(self, check_id: str, environment: str) -> Skip | None:
        return next((s for s in self.skip if s.covers(check_id, environment)), None)


@dataclass(frozen=True)
class CheckovResult:
    check_id: str
    name: str
    manifest: Manifest
    severity: str
    guideline: str | None
    skipped_because: str | None = None


def load_policy(path: Path, rel: str) -> CheckovPolicy:
    """Read checkov.yaml; a skip without a reason or a bad severity is a ConfigError."""
    if not path.is_file():
        return CheckovPolicy()
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    default = data.get("default_severity", "medium")
    severities = data.get("severity") or {}
    for value in [default, *severities.values()]:
        if value not in SEVERITIES:
            raise ConfigError(
                f"severity '{value}' must be one of {', '.join(SEVERITIES)}", path=rel
            )
    skips = []
    for entry in data.get("skip") or []:
        reason = str(entry.get("reason") or "").strip()
        if not entry.get("id") or len(reason) < 10:
            raise ConfigError(
                f"skip {entry.get('id') or '(no id)'}: every skip needs an id and a reason",
                path=rel,
            )
        skips.append(Skip(str(entry["id"]), reason, tuple(entry.get("environments") or ())))
    return CheckovPolicy(default, dict(severities), tuple(skips))


def _failed_checks(payload: Any) -> list[dict[str, Any]]:
    reports = payload if isinstance(payload, list) else [payload]
    out: list[dict[str, Any]] = []
    for report in reports:
        if isinstance(report, dict):
            out += (report.get("results") or {}).get("failed_checks") or []
    return out


def run(manifests: list[Manifest], policy: CheckovPolicy) -> list[CheckovResult]:
    """Run checkov once over every object (one file each, grouped by environment)."""
    if not manifests:
        return []
    with tempfile.TemporaryDirectory(prefix="shiprail-k8s-checkov-") as tmp:
        by_file: dict[str, Manifest] = {}
        for number, manifest in enumerate(manifests):
            rel = f"/{manifest.environment}/{number:04d}.yaml"
            path = Path(tmp + rel)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(yaml.safe_dump(manifest.obj, sort_keys=False), encoding="utf-8")
            by_file[rel] = manifest
        result = _subprocess.run(
            [
                "checkov",
                "-d",
                tmp,
                "--framework",
                "kubernetes",
                "--skip-download",
                "-o",
                "json",
                "--quiet",
                "--compact",
            ],
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
    results = []
    for check in _failed_checks(payload):
        found = by_file.get(str(check.get("file_path", "")))
        if found is None:
            continue
        manifest = found
        check_id = str(check.get("check_id"))
        skip = policy.skip_for(check_id, manifest.environment)
        results.append(
            CheckovResult(
                check_id,
                str(check.get("check_name", check_id)),
                manifest,
                policy.severity_of(check_id),
                check.get("guideline"),
                skip.reason if skip else None,
            )
        )
    return sorted(results, key=lambda r: (r.manifest.environment, r.manifest.source, r.check_id))
