"""``shiprail k8s check``: render every environment and check everything a cluster would.

For each environment: ``helm lint --strict`` and ``helm template``; then, over the rendered
objects and the committed manifests (``gitops/``, the Gatekeeper bundle): schema validation
(Kubernetes and CRD schemas), the Rego admission rules, checkov's Kubernetes checks, and a
staleness check of the Gatekeeper bundle. Results are scanner :class:`Finding` values, so
``shiprail scan`` and this command report the same thing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from shiprail.errors import ConfigError
from shiprail.findings import Finding, Rule, Severity
from shiprail.kubernetes import (
    checkov_k8s,
    crds,
    gatekeeper,
    gitops,
    policy,
    render,
    schema,
    terraform,
)
from shiprail.kubernetes.manifests import Manifest, line_of_key, load_manifest_files
from shiprail.kubernetes.settings import KubernetesConfig

TOOL = "kubernetes"

#: The key each rule's violation is about, to point at the right line of a template.
_RULE_KEYS = {
    "requiredresources": "resources",
    "disallowlatest": "image",
    "allowedregistries": "image",
    "privileged": "privileged",
    "privilegeescalation": "allowPrivilegeEscalation",
    "runasnonroot": "runAsNonRoot",
    "readonlyrootfs": "readOnlyRootFilesystem",
    "capabilities": "capabilities",
    "hostpath": "hostPath",
    "hostnamespaces": "hostNetwork",
    "probes": "livenessProbe",
    "imagepullpolicy": "imagePullPolicy",
}


@dataclass(frozen=True)
class Suppressed:
    finding: Finding
    reason: str


@dataclass
class CheckReport:
    environments: list[str]
    fail_on: Severity
    findings: list[Finding] = field(default_factory=list)
    suppressed: list[Suppressed] = field(default_factory=list)
    objects: dict[str, int] = field(default_factory=dict)
    data_sources: dict[str, str] = field(default_factory=dict)

    @property
    def blocking(self) -> list[Finding]:
        return [f for f in self.findings if f.severity.rank >= self.fail_on.rank]

    def to_dict(self) -> dict[str, object]:
        def one(f: Finding) -> dict[str, object]:
            return {
                "rule": f.rule.id,
                "title": f.rule.name,
                "severity": f.severity.value,
                "blocking": f.severity.rank >= self.fail_on.rank,
                "message": f.message,
                "path": f.path,
                "line": f.start_line,
                **f.properties,
            }

        return {
            "environments": self.environments,
            "objects": self.objects,
            "fail_on": self.fail_on.value,
            "blocking": len(self.blocking),
            "findings": [one(f) for f in self.findings],
            "suppressed": [{**one(s.finding), "reason": s.reason} for s in self.suppressed],
            "data": self.data_sources,
        }


def committed_manifest_files(root: Path, config: KubernetesConfig) -> list[Path]:
    """The GitOps manifests and the generated Gatekeeper bundle (repo-relative)."""
    files: list[Path] = []
    for base in dict.fromkeys((config.gitops, config.gatekeeper)):
        directory = root / base
        if directory.is_dir():
            files += [
                p.relative_to(root)
                for p in sorted(directory.rglob("*"))
                if p.suffix in (".yaml", ".yml") and p.is_file()
            ]
    return sorted(set(files))


def _finding(
    manifest: Manifest,
    root: Path,
    rule: Rule,
    severity: Severity,
    message: str,
    key: str | None,
    **properties: str,
) -> Finding:
    line = line_of_key(root, manifest.source, key, manifest.line) if key else manifest.line
    return Finding(
        tool=TOOL,
        rule=rule,
        severity=severity,
        message=f"[{manifest.environment}] {manifest.display}: {message}",
        path=manifest.source,
        start_line=line,
        snippet=f"{manifest.environment} {manifest.display} {rule.id} {message}",
        properties={"environment": manifest.environment, "object": manifest.display, **properties},
    )


_RENDER_RULE = Rule("k8s-render", "Helm renders the chart", "helm lint --strict and helm template")
_SCHEMA_RULE = Rule(
    "k8s-schema", "Objects match their Kubernetes schema", "kubernetes-validate --strict"
)
_CRD_RULE = Rule("k8s-crd-schema", "Custom resources match their CRD schema", "openAPIV3Schema")
_NO_SCHEMA_RULE = Rule("k8s-no-schema", "No schema available offline", "kind not validated")
_PROMOTION_RULE = Rule(
    "k8s-gitops-promotion",
    "dev from main, stage from release/*, prod from v* (manual sync)",
    "the ApplicationSet's promotion contract",
)
_STALE_RULE = Rule(
    "k8s-gatekeeper-stale",
    "The Gatekeeper bundle matches the Rego rules",
    "run: shiprail k8s gatekeeper --write",
)


def run_check(
    config: KubernetesConfig,
    root: Path,
    environments: Sequence[str] | None = None,
    *,
    include_committed: bool = True,
    use_checkov: bool | None = None,
) -> CheckReport:
    """Render and check; raises only for missing tools/data or broken platform config."""
    envs = [config.environment(n) for n in environments] if environments else config.environments
    report = CheckReport([e.name for e in envs], Severity(config.fail_on))
    crd_index = crds.CrdIndex.load(root / config.crds)
    source_file = root / config.crds / "SOURCE"
    report.data_sources["crds"] = (
        source_file.read_text(encoding="utf-8").strip()
        if source_file.is_file()
        else str(config.crds)
    )

    manifests: list[Manifest] = []
    for env in envs:
        try:
            rendered = render.render(config, env, root)
        except ConfigError as exc:
            report.findings.append(
                Finding(
                    tool=TOOL,
                    rule=_RENDER_RULE,
                    severity=Severity.high,
                    message=_without_location(exc),
                    path=exc.path or env.values,
                    start_line=exc.line or 1,
                    snippet=f"{env.name} helm {exc.message}",
                    properties={"environment": env.name},
                )
            )
            continue
        manifests += rendered.manifests
        report.objects[env.name] = len(rendered.manifests)

    if include_committed:
        committed = load_manifest_files(root, committed_manifest_files(root, config), "gitops")
        templates = [m.obj for m in committed if m.kind == "ConstraintTemplate"]
        crd_index = crds.with_extra(crd_index, crds.constraint_schemas(templates))
        manifests += committed
        report.objects["gitops"] = len(committed)
        for rel in gatekeeper.stale(config, root):
            report.findings.append(
                Finding(
                    tool=TOOL,
                    rule=_STALE_RULE,
                    severity=Severity.high,
                    message=f"{rel} is stale: run shiprail k8s gatekeeper --write",
                    path=rel,
                    snippet=f"stale {rel}",
                )
            )

    for promotion in gitops.check_promotion(manifests):
        report.findings.append(
            _finding(
                promotion.manifest,
                root,
                _PROMOTION_RULE,
                Severity.high,
                promotion.message,
                "revision",
            )
        )

    for problem in schema.validate(manifests, crd_index, config.kubernetes_version):
        rule = _CRD_RULE if problem.validator == "crd-schema" else _SCHEMA_RULE
        severity = Severity.high
        if problem.unvalidated:
            rule, severity = _NO_SCHEMA_RULE, Severity.low
        key = next((p for p in reversed(problem.path.split(".")) if p and not p.isdigit()), None)
        report.findings.append(
            _finding(
                problem.manifest,
                root,
                rule,
                severity,
                problem.message,
                key,
                validator=problem.validator,
            )
        )

    for violation in policy.evaluate(manifests, config, root):
        rule = Rule(
            f"k8s-policy-{violation.rule.id}",
            violation.rule.title,
            f"Gatekeeper {violation.rule.kind} ({config.policies}/rules/{violation.rule.id}.rego)",
        )
        report.findings.append(
            _finding(
                violation.manifest,
                root,
                rule,
                Severity(violation.rule.severity),
                violation.message,
                _RULE_KEYS.get(violation.rule.id),
                validator="opa",
            )
        )

    use_checkov_now = config.checkov if use_checkov is None else use_checkov
    if use_checkov_now:
        checkov_policy = checkov_k8s.load_policy(
            root / config.policies / "checkov.yaml", f"{config.policies}/checkov.yaml"
        )
        for result in checkov_k8s.run(manifests, checkov_policy):
            finding = _finding(
                result.manifest,
                root,
                Rule(result.check_id, result.name, result.name, help_uri=result.guideline),
                Severity(result.severity),
                f"{result.check_id} {result.name}",
                None,
                validator="checkov",
            )
            if result.skipped_because:
                report.suppressed.append(Suppressed(finding, result.skipped_because))
            else:
                report.findings.append(finding)

    if include_committed and config.terraform and (root / config.terraform).is_dir():
        default = checkov_k8s.load_policy(
            root / config.policies / "checkov.yaml", f"{config.policies}/checkov.yaml"
        ).default_severity
        _check_terraform(report, config.terraform, root, use_checkov_now, Severity(default))

    report.findings.sort(key=lambda f: (-f.severity.rank, f.path, f.start_line, f.message))
    return report


_TF_FMT_RULE = Rule("tf-fmt", "Terraform files are formatted", "terraform fmt -check")


def _check_terraform(
    report: CheckReport, directory: str, root: Path, with_checkov: bool, severity: Severity
) -> None:
    """terraform fmt -check and checkov's Terraform checks over the EKS/AKS modules."""
    files = terraform.unformatted(root, directory)
    if files is None:
        report.findings.append(
            Finding(
                tool=TOOL,
                rule=_TF_FMT_RULE,
                severity=Severity.low,
                message="terraform is not installed; formatting was not checked",
                path=directory,
                snippet="terraform missing",
            )
        )
    for rel in files or []:
        path = rel if rel.startswith(directory) else f"{directory.rstrip('/')}/{rel}"
        report.findings.append(
            Finding(
                tool=TOOL,
                rule=_TF_FMT_RULE,
                severity=Severity.medium,
                message=f"{path} is not formatted (run: terraform fmt -recursive {directory})",
                path=path,
                snippet=f"fmt {path}",
            )
        )
    if not with_checkov:
        return
    for problem in terraform.checkov(root, directory):
        report.findings.append(
            Finding(
                tool=TOOL,
                rule=Rule(
                    problem.check_id, problem.title, problem.title, help_uri=problem.guideline
                ),
                severity=severity,
                message=f"{problem.check_id} {problem.title}",
                path=problem.path,
                start_line=problem.line,
                snippet=f"{problem.check_id} {problem.path}",
                properties={"validator": "checkov"},
            )
        )


def _without_location(exc: ConfigError) -> str:
    """The error's text without its "path:line: " prefix (the finding carries both)."""
    prefix = f"{exc.path}:{exc.line}: " if exc.path and exc.line else f"{exc.path}: "
    return exc.message.removeprefix(prefix)
