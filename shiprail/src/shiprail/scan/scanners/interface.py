"""The seam every scanner implements (in the style of pip-audit's ``_service/interface.py``).

A scanner wraps one well-kept tool: it says what it applies to, runs the tool through
``shiprail._subprocess`` and returns :class:`Finding` values; it never decides whether the
gate passes (that is ``gate.py``'s job) and never prints.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path


class Category(str, Enum):
    sast = "sast"
    secrets = "secrets"
    dependencies = "dependencies"
    iac = "iac"
    container = "container"
    workflow = "workflow"
    shell = "shell"
    kubernetes = "kubernetes"


class Severity(str, Enum):
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


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    description: str
    help_uri: str | None = None


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


class Scanner(ABC):
    """A wrapped tool."""

    #: short tool name used on the command line (``--only bandit``)
    name: str
    category: Category
    #: the executable that must be present (checked before running)
    binary: str
    #: True when the tool needs no network at run time
    offline: bool = True

    @abstractmethod
    def applies_to(self, root: Path, files: list[Path]) -> list[Path]:
        """The files (repo-relative) this scanner would look at; empty means it does not run."""

    @abstractmethod
    def scan(self, root: Path, files: list[Path]) -> list[Finding]:
        """Run the tool over ``files`` under ``root`` and return normalised findings."""
