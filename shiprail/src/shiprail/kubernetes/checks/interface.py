"""The seam every Kubernetes check implements, like the scanners' ``interface.py``.

``run_check`` (:mod:`shiprail.kubernetes.check`) renders every environment once, loads the
committed manifests once, and hands the same :class:`CheckContext` to each registered check.
A check says its name and the tools it runs, whether it applies to this run, and returns
:class:`~shiprail.findings.Finding` values (and :class:`Suppressed` ones for documented
exceptions); it never decides whether the gate passes and never prints.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from shiprail import checkov
from shiprail.errors import ConfigError
from shiprail.findings import Finding, Rule, Severity
from shiprail.kubernetes.crds import CrdIndex
from shiprail.kubernetes.manifests import Manifest, line_of_key
from shiprail.kubernetes.render import RenderedEnvironment
from shiprail.kubernetes.settings import KubernetesConfig

#: the ``tool`` of every finding, so ``shiprail scan`` reports them under one scanner
TOOL = "kubernetes"


@dataclass(frozen=True)
class Suppressed:
    """A finding a documented exception (a skip with a reason) keeps from counting."""

    finding: Finding
    reason: str


@dataclass(frozen=True)
class CheckContext:
    """Everything one run checks, prepared once and shared by the checks."""

    config: KubernetesConfig
    root: Path
    #: per environment, in configuration order: the rendered objects or why rendering failed
    rendered: dict[str, RenderedEnvironment | ConfigError]
    #: the GitOps manifests and the Gatekeeper bundle ([] when not included)
    committed: list[Manifest]
    crd_index: CrdIndex
    include_committed: bool
    use_checkov: bool
    #: True for a repo-relative file that another checkov run of the same scan reads
    #: (``shiprail scan``'s checkov scanner): checkov here leaves it out
    read_elsewhere: Callable[[str], bool]
    checkov_runner: checkov.Runner | None = None

    @property
    def rendered_manifests(self) -> list[Manifest]:
        return [
            m
            for r in self.rendered.values()
            if isinstance(r, RenderedEnvironment)
            for m in r.manifests
        ]

    @property
    def manifests(self) -> list[Manifest]:
        """Every object of the run: rendered first, then committed."""
        return self.rendered_manifests + self.committed


class Check(ABC):
    """One kind of check over a :class:`CheckContext`."""

    #: short name, shown in docs and used in tests
    name: str
    #: the executables it runs (each check reports a missing one its own way)
    tools: tuple[str, ...] = ()

    def applies(self, context: CheckContext) -> bool:
        """False when this run leaves the check out (no checkov, no committed files...)."""
        return True

    @abstractmethod
    def run(self, context: CheckContext) -> list[Finding | Suppressed]:
        """The check's findings over ``context``."""


def manifest_finding(
    manifest: Manifest,
    root: Path,
    rule: Rule,
    severity: Severity,
    message: str,
    key: str | None,
    **properties: str,
) -> Finding:
    """A finding about one object, pointing at the line of ``key`` in its source."""
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
