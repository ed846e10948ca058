"""One module per Kubernetes check, each implementing
:class:`shiprail.kubernetes.checks.interface.Check`.

``CHECKS`` is the registry :func:`shiprail.kubernetes.check.run_check` runs. A new check is
one module and one line here.
"""

from __future__ import annotations

from shiprail.kubernetes.checks.admission import AdmissionStaleCheck
from shiprail.kubernetes.checks.checkov import CheckovCheck
from shiprail.kubernetes.checks.gatekeeper import GatekeeperStaleCheck
from shiprail.kubernetes.checks.interface import Check
from shiprail.kubernetes.checks.policy import PolicyCheck
from shiprail.kubernetes.checks.promotion import PromotionCheck
from shiprail.kubernetes.checks.render import RenderCheck
from shiprail.kubernetes.checks.schema import SchemaCheck
from shiprail.kubernetes.checks.terraform import TerraformCheck

CHECKS: list[Check] = [
    RenderCheck(),
    GatekeeperStaleCheck(),
    AdmissionStaleCheck(),
    PromotionCheck(),
    SchemaCheck(),
    PolicyCheck(),
    CheckovCheck(),
    TerraformCheck(),
]
