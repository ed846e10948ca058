"""Every object against its schema: built-in kinds with ``kubernetes-validate --strict``,
custom resources with their upstream CRDs; a kind without an offline schema is a low note."""

from __future__ import annotations

from shiprail.findings import Finding, Rule, Severity
from shiprail.kubernetes import schema
from shiprail.kubernetes.checks.interface import Check, CheckContext, Suppressed, manifest_finding

SCHEMA_RULE = Rule(
    "k8s-schema", "Objects match their Kubernetes schema", "kubernetes-validate --strict"
)
CRD_RULE = Rule("k8s-crd-schema", "Custom resources match their CRD schema", "openAPIV3Schema")
NO_SCHEMA_RULE = Rule("k8s-no-schema", "No schema available offline", "kind not validated")


class SchemaCheck(Check):
    name = "schema"
    tools = ("kubernetes-validate",)

    def run(self, context: CheckContext) -> list[Finding | Suppressed]:
        out: list[Finding | Suppressed] = []
        problems = schema.validate(
            context.manifests, context.crd_index, context.config.kubernetes_version
        )
        for problem in problems:
            rule = CRD_RULE if problem.validator == "crd-schema" else SCHEMA_RULE
            severity = Severity.high
            if problem.unvalidated:
                rule, severity = NO_SCHEMA_RULE, Severity.low
            parts = reversed(problem.path.split("."))
            key = next((p for p in parts if p and not p.isdigit()), None)
            out.append(
                manifest_finding(
                    problem.manifest,
                    context.root,
                    rule,
                    severity,
                    problem.message,
                    key,
                    validator=problem.validator,
                )
            )
        return out
