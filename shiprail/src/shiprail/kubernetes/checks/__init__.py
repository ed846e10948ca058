"""One module per Kubernetes check, each implementing
:class:`shiprail.kubernetes.checks.interface.Check`.

``CHECKS`` is the registry :func:`shiprail.kubernetes.check.run_check` runs. A new check is
one module and one line here.
"""

from __future__ import annotations

from shiprail.findings import Rule
from shiprail.kubernetes import admission, gatekeeper
from shiprail.kubernetes.checks.checkov import CheckovCheck
from shiprail.kubernetes.checks.generated import GeneratedStaleCheck
from shiprail.kubernetes.checks.interface import Check
from shiprail.kubernetes.checks.policy import PolicyCheck
from shiprail.kubernetes.checks.promotion import PromotionCheck
from shiprail.kubernetes.checks.render import RenderCheck
from shiprail.kubernetes.checks.schema import SchemaCheck
from shiprail.kubernetes.checks.terraform import TerraformCheck

CHECKS: list[Check] = [
    RenderCheck(),
    GeneratedStaleCheck(
        "gatekeeper-stale",
        gatekeeper,
        Rule(
            "k8s-gatekeeper-stale",
            "The Gatekeeper bundle matches the Rego rules",
            "run: shiprail k8s gatekeeper --write",
        ),
        "shiprail k8s gatekeeper --write",
    ),
    GeneratedStaleCheck(
        "admission-stale",
        admission,
        Rule(
            "k8s-admission-stale",
            "The ValidatingAdmissionPolicies match the admission rules",
            "run: shiprail k8s admission --write",
        ),
        "shiprail k8s admission --write",
    ),
    PromotionCheck(),
    SchemaCheck(),
    PolicyCheck(),
    CheckovCheck(),
    TerraformCheck(),
]
