"""``shiprail k8s check``: render every environment and check everything a cluster would.

Each environment is linted and rendered once (in parallel: ``helm`` runs are independent);
the committed manifests (``gitops/``, the Gatekeeper bundle) are loaded once; then every
check of the registry (:data:`shiprail.kubernetes.checks.CHECKS`: render errors, Gatekeeper
staleness, the GitOps promotion contract, Kubernetes and CRD schemas, the Rego policies,
checkov, Terraform) runs over the same context. The checks over objects run once over all
environments rather than once per environment: starting OPA and checkov dominates their
cost. Results are :class:`~shiprail.findings.Finding` values, so ``shiprail scan`` and this
command report the same thing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from shiprail import checkov
from shiprail.errors import ConfigError
from shiprail.findings import Finding, Severity
from shiprail.kubernetes import crds, render
from shiprail.kubernetes.checks import CHECKS
from shiprail.kubernetes.checks.interface import Check, CheckContext, Suppressed
from shiprail.kubernetes.manifests import load_manifest_files
from shiprail.kubernetes.settings import KubernetesConfig, KubernetesEnvironment

__all__ = ["CheckReport", "Suppressed", "committed_manifest_files", "run_check"]


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
    """The GitOps manifests and the generated Gatekeeper and admission bundles
    (repo-relative)."""
    files: list[Path] = []
    for base in dict.fromkeys((config.gitops, config.gatekeeper, config.admission)):
        directory = root / base
        if directory.is_dir():
            files += [
                p.relative_to(root)
                for p in sorted(directory.rglob("*"))
                if p.suffix in (".yaml", ".yml") and p.is_file()
            ]
    return sorted(set(files))


def render_all(
    config: KubernetesConfig, envs: Sequence[KubernetesEnvironment], root: Path
) -> dict[str, render.RenderedEnvironment | ConfigError]:
    """Each environment rendered, or the configuration error that stopped it; missing or
    crashing tools still raise."""

    def one(env: KubernetesEnvironment) -> render.RenderedEnvironment | ConfigError:
        try:
            return render.render(config, env, root)
        except ConfigError as exc:
            return exc

    with ThreadPoolExecutor(max_workers=max(1, min(len(envs), 4))) as pool:
        results = list(pool.map(one, envs))
    return {env.name: result for env, result in zip(envs, results, strict=True)}


def run_check(
    config: KubernetesConfig,
    root: Path,
    environments: Sequence[str] | None = None,
    *,
    include_committed: bool = True,
    include_rendered: bool = True,
    use_checkov: bool | None = None,
    read_elsewhere: Callable[[str], bool] | None = None,
    checkov_runner: checkov.Runner | None = None,
    checks: Sequence[Check] = CHECKS,
) -> CheckReport:
    """Render and check; raises only for missing tools/data or broken platform config.

    ``read_elsewhere(path)`` says which repo-relative files another checkov run of the same
    scan reads; checkov here leaves them out, so each path is scanned once.
    ``include_rendered`` False checks the committed files only (``shiprail scan`` checks
    each environment in a job of its own).
    """
    envs = [config.environment(n) for n in environments] if environments else config.environments
    if not include_rendered:
        envs = []
    report = CheckReport([e.name for e in envs], Severity(config.fail_on))
    crd_index = crds.CrdIndex.load(root / config.crds)
    source_file = root / config.crds / "SOURCE"
    report.data_sources["crds"] = (
        source_file.read_text(encoding="utf-8").strip()
        if source_file.is_file()
        else str(config.crds)
    )
    rendered = render_all(config, envs, root) if envs else {}
    for name, result in rendered.items():
        if isinstance(result, render.RenderedEnvironment):
            report.objects[name] = len(result.manifests)
    committed = []
    if include_committed:
        committed = load_manifest_files(root, committed_manifest_files(root, config), "gitops")
        templates = [m.obj for m in committed if m.kind == "ConstraintTemplate"]
        crd_index = crds.with_extra(crd_index, crds.constraint_schemas(templates))
        report.objects["gitops"] = len(committed)
    context = CheckContext(
        config=config,
        root=root,
        rendered=rendered,
        committed=committed,
        crd_index=crd_index,
        include_committed=include_committed,
        use_checkov=config.checkov if use_checkov is None else use_checkov,
        read_elsewhere=read_elsewhere or (lambda _path: False),
        checkov_runner=checkov_runner,
    )
    for check in checks:
        if not check.applies(context):
            continue
        for item in check.run(context):
            if isinstance(item, Suppressed):
                report.suppressed.append(item)
            else:
                report.findings.append(item)
    report.findings.sort(key=lambda f: (-f.severity.rank, f.path, f.start_line, f.message))
    return report
