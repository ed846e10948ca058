"""The findings model every check reports in: :class:`Finding`, :class:`Rule`,
:class:`Severity` and :class:`Category`.

It sits below ``scan``, ``kubernetes`` and ``image`` so each of them speaks the same language
without importing another's package: the security gate decides on the findings of any of
them, and ``shiprail k8s check`` and ``shiprail scan`` report the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path


class Category(StrEnum):
    sast = "sast"
    secrets = "secrets"
    dependencies = "dependencies"
    iac = "iac"
    container = "container"
    workflow = "workflow"
    shell = "shell"
    kubernetes = "kubernetes"


class Severity(StrEnum):
    """One scale for every tool; ``security_severity`` is the SARIF number GitHub reads."""

    critical = "critical"
    high = "high"
    medium = "medium"
    low = "low"

    @property
    def rank(self) -> int:
        return {"critical": 4, "high": 3, "medium": 2, "low": 1}[self.value]

    @property
    def security_severity(self) -> str:
        return {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "2.0"}[self.value]

    @property
    def sarif_level(self) -> str:
        return {"critical": "error", "high": "error", "medium": "warning", "low": "note"}[
            self.value
        ]

    def lower(self) -> Severity:
        """One step down the scale (used for low-confidence results)."""
        order = [Severity.low, Severity.medium, Severity.high, Severity.critical]
        return order[max(0, order.index(self) - 1)]


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    description: str
    help_uri: str | None = None
    help_text: str | None = None


@dataclass(frozen=True)
class Finding:
    """One result, with a repo-relative path and 1-based lines."""

    tool: str
    rule: Rule
    severity: Severity
    message: str
    path: str
    start_line: int = 1
    end_line: int | None = None
    snippet: str | None = None  # the offending line, used for the stable fingerprint
    properties: dict[str, str] = field(default_factory=dict)
    #: set when one tool covers several categories (checkov: Terraform, Dockerfiles, workflows)
    category: Category | None = None


def read_line(root: Path, path: str, line: int) -> str | None:
    """The 1-based ``line`` of ``root/path`` (None when unreadable)."""
    try:
        with (root / path).open(encoding="utf-8", errors="replace") as handle:
            for number, text in enumerate(handle, start=1):
                if number == line:
                    return text.rstrip("\n")
    except OSError:
        return None
    return None
