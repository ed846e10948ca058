"""Committed files generated from the admission rules (the Gatekeeper bundle, the
ValidatingAdmissionPolicies) must be exactly what the rules and ``shiprail.yaml`` generate."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from shiprail.findings import Finding, Rule, Severity
from shiprail.kubernetes.checks.interface import TOOL, Check, CheckContext, Suppressed
from shiprail.kubernetes.settings import KubernetesConfig


class Generator(Protocol):
    """What :mod:`shiprail.kubernetes.gatekeeper` and :mod:`~shiprail.kubernetes.admission`
    offer: the committed files that differ from what they would write now."""

    def stale(self, config: KubernetesConfig, root: Path) -> list[str]: ...


class GeneratedStaleCheck(Check):
    def __init__(self, name: str, generator: Generator, rule: Rule, command: str) -> None:
        self.name = name
        self.generator = generator
        self.rule = rule
        self.command = command

    def applies(self, context: CheckContext) -> bool:
        return context.include_committed

    def run(self, context: CheckContext) -> list[Finding | Suppressed]:
        return [
            Finding(
                tool=TOOL,
                rule=self.rule,
                severity=Severity.high,
                message=f"{rel} is stale: run {self.command}",
                path=rel,
                snippet=f"stale {rel}",
            )
            for rel in self.generator.stale(context.config, context.root)
        ]
