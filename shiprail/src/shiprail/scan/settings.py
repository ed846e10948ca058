"""The ``scan:`` section of ``shiprail.yaml`` and the settings of one scan run.

The section is validated strictly (unknown keys are errors, every ignored path and skipped
tool needs a reason) so a typo cannot silently weaken the gate. ``ScanSettings`` is the
resolved form one run uses: config plus command-line options plus paths made absolute.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from pydantic import Field, StringConstraints, field_validator

from shiprail.findings import Category, Severity
from shiprail.paths import platform_home
from shiprail.settings import get_settings
from shiprail.strict import StrictModel

Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3)]

#: Where ``scripts/fetch-data.sh`` puts the PyPA advisory snapshot (relative to the repo root).
DEFAULT_ADVISORY_DB = ".cache/data/advisory-db/pypa/vulns"
#: Days before a waiver's expiry when the report starts warning.
WAIVER_WARN_DAYS = 14


class IgnoredPath(StrictModel):
    """A path glob excluded from every scanner, with the reason a reviewer can judge."""

    path: str = Field(min_length=1)
    reason: Reason


class SkippedTool(StrictModel):
    tool: str = Field(min_length=1)
    reason: Reason


class DependencyConfig(StrictModel):
    advisory_db: str = Field(
        default=DEFAULT_ADVISORY_DB,
        description="OSV directory of PyPI advisories used offline (PyPA advisory database)",
    )
    requirements: list[str] = Field(
        default_factory=lambda: ["requirements*.txt", "requirements*.lock", "*.requirements.txt"],
        description="Globs of pinned requirement files to audit",
    )
    environments: list[str] = Field(
        default_factory=list,
        description="Virtual environments whose installed packages are audited (e.g. .venv)",
    )


class ScanConfig(StrictModel):
    """``scan:`` in shiprail.yaml."""

    threshold: Severity = Field(
        default=Severity.high, description="Findings at or above this severity block the gate"
    )
    categories: dict[Category, Severity] = Field(
        default_factory=dict, description="Per-category blocking thresholds"
    )
    ignore: list[IgnoredPath] = Field(default_factory=list)
    skip: list[SkippedTool] = Field(default_factory=list)
    offline: bool = False
    timeout: float = Field(default=600.0, gt=0, description="Seconds allowed per scanner")
    waivers: str = ".shiprail/waivers.yaml"
    cache_dir: str = ".cache/scan"
    git_history: bool = Field(default=False, description="gitleaks also scans git history")
    dependencies: DependencyConfig = DependencyConfig()
    semgrep_rules: str = Field(default="policies/semgrep", description="Our Semgrep rules")

    @field_validator("ignore")
    @classmethod
    def _no_catch_all(cls, value: list[IgnoredPath]) -> list[IgnoredPath]:
        for item in value:
            if item.path.strip() in {"*", "**", "**/*", ".", "/"}:
                raise ValueError(f"ignoring '{item.path}' would switch the gate off")
        return value


@dataclass(frozen=True)
class ScanSettings:
    """Everything one run needs, resolved."""

    root: Path
    config: ScanConfig = field(default_factory=ScanConfig)
    #: where the platform's own files live (rules, advisory data, cache): the shiprail checkout
    home: Path = field(default_factory=platform_home)
    only: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()
    offline: bool = False
    changed_since: str | None = None
    jobs: int = field(default_factory=lambda: max(1, os.cpu_count() or 1))
    use_cache: bool = True

    @property
    def is_offline(self) -> bool:
        return self.offline or self.config.offline

    def resolve(self, value: str, *, prefer_root: bool = False) -> Path:
        """A configured path: absolute as is, else relative to the scanned root when it exists
        there (``prefer_root``) or to the platform home."""
        path = Path(os.path.expandvars(value)).expanduser()
        if path.is_absolute():
            return path
        if prefer_root and (self.root / path).exists():
            return self.root / path
        return self.home / path

    def advisory_db(self) -> Path:
        configured = get_settings().advisory_db or self.config.dependencies.advisory_db
        return self.resolve(configured, prefer_root=True)

    def semgrep_rules(self) -> Path:
        return self.resolve(self.config.semgrep_rules, prefer_root=True)

    def cache_dir(self) -> Path:
        return self.resolve(get_settings().scan_cache or self.config.cache_dir)
