"""The GitOps promotion contract: dev from main, stage from release/*, prod from v* tags
with a manual sync (see :mod:`shiprail.kubernetes.gitops`)."""

from __future__ import annotations

from shiprail.findings import Finding, Rule, Severity
from shiprail.kubernetes import gitops
from shiprail.kubernetes.checks.interface import Check, CheckContext, Suppressed, manifest_finding

RULE = Rule(
    "k8s-gitops-promotion",
    "dev from main, stage from release/*, prod from v* (manual sync)",
    "the ApplicationSet's promotion contract",
)


class PromotionCheck(Check):
    name = "gitops-promotion"

    def run(self, context: CheckContext) -> list[Finding | Suppressed]:
        return [
            manifest_finding(p.manifest, context.root, RULE, Severity.high, p.message, "revision")
            for p in gitops.check_promotion(context.manifests)
        ]
