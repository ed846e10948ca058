"""One module per scanner, each implementing :class:`shiprail.scan.scanners.interface.Scanner`.

``SCANNERS`` is the registry the engine runs, in report order. A new scanner is one module
and one line here.
"""

from __future__ import annotations

from shiprail.scan.scanners.actionlint import ActionlintScanner
from shiprail.scan.scanners.bandit import BanditScanner
from shiprail.scan.scanners.checkov import CheckovScanner
from shiprail.scan.scanners.detect_secrets import DetectSecretsScanner
from shiprail.scan.scanners.gitleaks import GitleaksScanner
from shiprail.scan.scanners.hadolint import HadolintScanner
from shiprail.scan.scanners.interface import Scanner
from shiprail.scan.scanners.kubernetes import KubernetesScanner
from shiprail.scan.scanners.osv import OsvScanner
from shiprail.scan.scanners.pip_audit import PipAuditScanner
from shiprail.scan.scanners.semgrep import SemgrepScanner
from shiprail.scan.scanners.shellcheck import ShellcheckScanner

SCANNERS: list[type[Scanner]] = [
    BanditScanner,
    SemgrepScanner,
    DetectSecretsScanner,
    GitleaksScanner,
    OsvScanner,
    PipAuditScanner,
    CheckovScanner,
    HadolintScanner,
    ActionlintScanner,
    ShellcheckScanner,
    KubernetesScanner,
]


def by_name() -> dict[str, type[Scanner]]:
    return {cls.name: cls for cls in SCANNERS}
