"""The committed ValidatingAdmissionPolicies must match the rules they are generated from."""

from __future__ import annotations

from shiprail.findings import Finding, Rule, Severity
from shiprail.kubernetes import admission
from shiprail.kubernetes.checks.interface import TOOL, Check, CheckContext, Suppressed

RULE = Rule(
    "k8s-admission-stale",
    "The ValidatingAdmissionPolicies match the admission rules",
    "run: shiprail k8s admission --write",
)


class AdmissionStaleCheck(Check):
    name = "admission-stale"

    def applies(self, context: CheckContext) -> bool:
        return context.include_committed

    def run(self, context: CheckContext) -> list[Finding | Suppressed]:
        return [
            Finding(
                tool=TOOL,
                rule=RULE,
                severity=Severity.high,
                message=f"{rel} is stale: run shiprail k8s admission --write",
                path=rel,
                snippet=f"stale {rel}",
            )
            for rel in admission.stale(context.config, context.root)
        ]
