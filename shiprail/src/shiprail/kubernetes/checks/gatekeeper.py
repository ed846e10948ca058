"""The committed Gatekeeper bundle must match the Rego rules it is generated from."""

from __future__ import annotations

from shiprail.findings import Finding, Rule, Severity
from shiprail.kubernetes import gatekeeper
from shiprail.kubernetes.checks.interface import TOOL, Check, CheckContext, Suppressed

RULE = Rule(
    "k8s-gatekeeper-stale",
    "The Gatekeeper bundle matches the Rego rules",
    "run: shiprail k8s gatekeeper --write",
)


class GatekeeperStaleCheck(Check):
    name = "gatekeeper-stale"

    def applies(self, context: CheckContext) -> bool:
        return context.include_committed

    def run(self, context: CheckContext) -> list[Finding | Suppressed]:
        return [
            Finding(
                tool=TOOL,
                rule=RULE,
                severity=Severity.high,
                message=f"{rel} is stale: run shiprail k8s gatekeeper --write",
                path=rel,
                snippet=f"stale {rel}",
            )
            for rel in gatekeeper.stale(context.config, context.root)
        ]
