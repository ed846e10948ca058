"""The Rego admission rules (the Gatekeeper ConstraintTemplates' bodies), evaluated with OPA
over every object; each rule has its catalogue severity (``rules.yaml``)."""

from __future__ import annotations

from shiprail.findings import Finding, Rule, Severity
from shiprail.kubernetes import policy
from shiprail.kubernetes.checks.interface import Check, CheckContext, Suppressed, manifest_finding

#: The key each rule's violation is about, to point at the right line of a template.
RULE_KEYS = {
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


class PolicyCheck(Check):
    name = "policy"
    tools = ("opa",)

    def run(self, context: CheckContext) -> list[Finding | Suppressed]:
        config = context.config
        out: list[Finding | Suppressed] = []
        for violation in policy.evaluate(context.manifests, config, context.root):
            spec = violation.rule
            rule = Rule(
                f"k8s-policy-{spec.id}",
                spec.title,
                f"Gatekeeper {spec.kind} ({config.policies}/rules/{spec.id}.rego)",
            )
            out.append(
                manifest_finding(
                    violation.manifest,
                    context.root,
                    rule,
                    Severity(spec.severity),
                    violation.message,
                    RULE_KEYS.get(spec.id),
                    validator="opa",
                )
            )
        return out
