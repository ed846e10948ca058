"""kubernetes: the Helm chart rendered for every environment and the GitOps manifests,
checked as a cluster would (see :mod:`shiprail.kubernetes.check`).

Shift-left and admission agree: the Rego rules are the Gatekeeper ConstraintTemplates'
bodies, evaluated with the OPA binary over every rendered object, next to Kubernetes/CRD
schema validation and checkov's Kubernetes checks.

Severity: schema errors and render failures high; each Rego rule its catalogue severity
(``policies/kubernetes/rules.yaml``); checkov's checks ``policies/kubernetes/checkov.yaml``
(skips and overrides; otherwise the one table of :mod:`shiprail.checkov`; documented skips are
not reported); kinds without an offline schema low. Terraform and the committed manifests
the checkov scanner reads are left to it, so each path is scanned by checkov once per scan.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shiprail import checkov
from shiprail.findings import Category, Finding
from shiprail.kubernetes.settings import KubernetesConfig
from shiprail.scan.scanners.checkov import CheckovScanner
from shiprail.scan.scanners.interface import Scanner, ScanNote, Unit

if TYPE_CHECKING:
    from shiprail.scan.settings import ScanSettings

#: rough seconds of one environment (helm, schemas, OPA), of the committed files, and of the
#: one checkov run over every environment (most of it checkov's own start, ~5 s)
ENV_SECONDS = 1.5
COMMITTED_SECONDS = 1.5
CHECKOV_SECONDS = 8.0
#: the unit that runs checkov once over the objects of every environment and the committed
#: manifests no other scanner reads
CHECKOV_UNIT = "checkov"


def _tree(root: Path, directory: str) -> list[Path]:
    """Repo-relative files under ``directory`` (hidden folders such as ``.terraform``
    left out), or the file itself."""
    base = root / directory
    if base.is_file():
        return [Path(directory)]
    found = []
    for current, dirs, names in os.walk(base):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found += [(Path(current) / n).relative_to(root) for n in sorted(names)]
    return found


class KubernetesScanner(Scanner):
    name = "kubernetes"
    category = Category.kubernetes
    binary = "helm"
    tool = "helm"
    min_version = "3.14"
    severity_doc = (
        "schema/render errors->high; Rego rules per policies/kubernetes/rules.yaml; "
        "checkov per policies/kubernetes/checkov.yaml (default medium); no schema->low"
    )
    timeout = 900.0

    def __init__(
        self,
        config: KubernetesConfig | None = None,
        checkov_runner: checkov.Runner | None = None,
    ) -> None:
        self.config = config
        self.checkov_runner = checkov_runner
        self._data_source: str | None = None

    @classmethod
    def from_settings(cls, settings: ScanSettings) -> Scanner:
        """The ``kubernetes`` section of the scanned repository's shiprail.yaml."""
        from shiprail.config import load_config

        path = settings.root / "shiprail.yaml"
        return cls(load_config(path).kubernetes if path.is_file() else None)

    def _config(self, root: Path) -> KubernetesConfig:
        if self.config is not None:
            return self.config
        from shiprail.config import load_config

        path = root / "shiprail.yaml"
        return load_config(path).kubernetes if path.is_file() else KubernetesConfig()

    def _prefixes(self, config: KubernetesConfig) -> tuple[str, ...]:
        prefixes = [config.chart, config.gitops, config.policies]
        prefixes += [str(Path(e.values).parent) for e in config.environments]
        return tuple(p.rstrip("/") + "/" for p in prefixes if p not in ("", "."))

    def applies_to(self, root: Path, files: list[Path]) -> list[Path]:
        """The chart, the values files, the GitOps manifests and the policies; the scanner
        runs when the chart exists."""
        config = self._config(root)
        if not (root / config.chart / "Chart.yaml").is_file():
            return []
        prefixes = self._prefixes(config)
        values = {e.values for e in config.environments}
        return [f for f in files if f.as_posix() in values or f.as_posix().startswith(prefixes)]

    def scan(self, root: Path, files: list[Path]) -> list[Finding]:
        from shiprail.kubernetes.check import run_check

        if not files:
            return []
        # the checkov scanner of the same scan reads Terraform and most committed manifests:
        # checkov here reads the rendered chart and the rest, so no path is scanned twice
        report = run_check(
            self._config(root),
            root,
            read_elsewhere=lambda path: CheckovScanner.reads(root, Path(path)),
            checkov_runner=self.checkov_runner,
        )
        self._data_source = report.data_sources.get("crds")
        return list(report.findings)

    def units(self, root: Path, files: list[Path]) -> list[Unit] | None:
        """One unit per environment (render, schemas, Rego), one for the committed files
        (GitOps manifests, Gatekeeper and admission bundles, Terraform), and one that runs
        checkov once over the objects of all of them: they run in parallel, a change to one
        values file re-checks one environment (and the checkov unit), and checkov, whose
        start costs more than the rest of an environment's checks, starts once, not once
        per unit."""
        config = self._config(root)
        shared = _tree(root, config.policies)
        if config.prometheus_rules:
            shared.append(Path(config.prometheus_rules))
        chart = _tree(root, config.chart)
        units = [
            Unit(f"env-{env.name}", tuple([*chart, Path(env.values), *shared]), ENV_SECONDS)
            for env in config.environments
        ]
        committed = [
            *_tree(root, config.gitops),
            *_tree(root, config.gatekeeper),
            *_tree(root, config.admission),
        ]
        committed += _tree(root, config.terraform) if config.terraform else []
        units.append(Unit("committed", tuple(sorted({*committed, *shared})), COMMITTED_SECONDS))
        if config.checkov:
            values = [Path(env.values) for env in config.environments]
            inputs = {*chart, *values, *committed, *shared}
            units.append(Unit(CHECKOV_UNIT, tuple(sorted(inputs)), CHECKOV_SECONDS))
        return units

    def scan_unit(self, root: Path, unit: Unit) -> list[Finding]:
        from shiprail.kubernetes.check import run_check
        from shiprail.kubernetes.checks import CHECKS
        from shiprail.kubernetes.checks.checkov import CheckovCheck
        from shiprail.kubernetes.checks.interface import Check

        config = self._config(root)
        checks: list[Check]
        if unit.name == CHECKOV_UNIT:
            environments, committed, rendered = None, True, True
            checks = [c for c in CHECKS if isinstance(c, CheckovCheck)]
        else:
            environment = unit.name.removeprefix("env-") if unit.name.startswith("env-") else None
            environments = [environment] if environment else None
            committed, rendered = environment is None, environment is not None
            checks = [c for c in CHECKS if not isinstance(c, CheckovCheck)]
        report = run_check(
            config,
            root,
            environments,
            include_committed=committed,
            include_rendered=rendered,
            read_elsewhere=lambda path: CheckovScanner.reads(root, Path(path)),
            checkov_runner=self.checkov_runner,
            checks=checks,
        )
        self._data_source = report.data_sources.get("crds")
        return list(report.findings)

    def version_command(self) -> list[str] | None:
        return ["helm", "version", "--short"]

    def config_inputs(self, root: Path) -> list[Path]:
        """The CRD schemas change results too."""
        crds = root / self._config(root).crds
        return sorted(crds.glob("*.yaml")) if crds.is_dir() else []

    def cache_key_extra(self) -> dict[str, Any]:
        return {"config": self.config.model_dump() if self.config else None}

    def notes(self) -> list[ScanNote]:
        if not self._data_source:
            return []
        source = self._data_source.splitlines()
        return [ScanNote(self.name, "CRD schemas: " + "; ".join(source))]
