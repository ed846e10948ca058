"""checkov's Kubernetes checks over the rendered objects (and the committed manifests when
no other scanner of the run reads them).

``policies/kubernetes/checkov.yaml`` holds the skips, each with a reason and optionally
limited to some environments, and may override severities; everything else takes the one
severity table of :mod:`shiprail.checkov` (``default_severity`` for checks it does not list).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from shiprail import checkov
from shiprail.errors import ConfigError
from shiprail.findings import Finding, Rule, Severity
from shiprail.kubernetes.checks.interface import Check, CheckContext, Suppressed, manifest_finding
from shiprail.kubernetes.manifests import Manifest

SEVERITIES = tuple(s.value for s in Severity)


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

    def severity_of(self, check_id: str) -> Severity:
        return checkov.severity_of(check_id, self.severity, self.default_severity)

    def skip_for(self, check_id: str, environment: str) -> Skip | None:
        return next((s for s in self.skip if s.covers(check_id, environment)), None)


@dataclass(frozen=True)
class CheckovResult:
    check_id: str
    name: str
    manifest: Manifest
    severity: Severity
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


def policy_of(context: CheckContext) -> CheckovPolicy:
    policies = context.config.policies
    return load_policy(context.root / policies / "checkov.yaml", f"{policies}/checkov.yaml")


def run(
    manifests: list[Manifest], policy: CheckovPolicy, runner: checkov.Runner | None = None
) -> list[CheckovResult]:
    """Run checkov once over every object (one file each, grouped by environment)."""
    if not manifests:
        return []
    with tempfile.TemporaryDirectory(prefix="shiprail-k8s-checkov-") as tmp:
        by_file: dict[str, Manifest] = {}
        for number, manifest in enumerate(manifests):
            rel = f"{manifest.environment}/{number:04d}.yaml"
            path = Path(tmp, rel)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(yaml.safe_dump(manifest.obj, sort_keys=False), encoding="utf-8")
            by_file[rel] = manifest
        found = checkov.run(Path(tmp), frameworks=("kubernetes",), directory=tmp, runner=runner)
    results = []
    for check in found:
        target = by_file.get(check.path)
        if target is None or check.skipped:
            continue
        skip = policy.skip_for(check.check_id, target.environment)
        results.append(
            CheckovResult(
                check.check_id,
                check.name,
                target,
                policy.severity_of(check.check_id),
                check.guideline,
                skip.reason if skip else None,
            )
        )
    return sorted(results, key=lambda r: (r.manifest.environment, r.manifest.source, r.check_id))


class CheckovCheck(Check):
    name = "checkov"
    tools = ("checkov",)

    def applies(self, context: CheckContext) -> bool:
        return context.use_checkov

    def run(self, context: CheckContext) -> list[Finding | Suppressed]:
        manifests = context.rendered_manifests
        manifests += [m for m in context.committed if not context.read_elsewhere(m.source)]
        out: list[Finding | Suppressed] = []
        for result in run(manifests, policy_of(context), context.checkov_runner):
            finding = manifest_finding(
                result.manifest,
                context.root,
                Rule(result.check_id, result.name, result.name, help_uri=result.guideline),
                result.severity,
                f"{result.check_id} {result.name}",
                None,
                validator="checkov",
            )
            if result.skipped_because:
                out.append(Suppressed(finding, result.skipped_because))
            else:
                out.append(finding)
        return out
