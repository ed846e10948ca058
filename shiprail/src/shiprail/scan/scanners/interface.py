"""The seam every scanner implements (in the style of pip-audit's ``_service/interface.py``).

A scanner wraps one well-kept tool: it says what it applies to, runs the tool through
``shiprail._subprocess`` and returns :class:`shiprail.findings.Finding` values; it never
decides whether the gate passes (that is ``gate.py``'s job) and never prints.

Each scanner declares, as class attributes, what the engine needs to plan, cache and explain
a run: its category, the file patterns it reads, the tool (a ``tools.lock`` name) and the
minimum version it needs, whether it works offline, and its severity mapping (documented in
``severity_doc`` so ``docs`` and reports can show it).
"""

from __future__ import annotations

import fnmatch
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shiprail.findings import Category, Finding

if TYPE_CHECKING:
    from shiprail.scan.settings import ScanSettings


@dataclass(frozen=True)
class ScanNote:
    """Something a scanner wants the report to say that is not a finding (data source, ...)."""

    tool: str
    message: str


@dataclass(frozen=True)
class Unit:
    """An independent part of a scanner that reads many files at once (one environment of
    the Kubernetes checks): run as its own job, cached by what it reads."""

    name: str
    #: every file (repo-relative) whose content changes the unit's findings
    reads: tuple[Path, ...]
    #: rough seconds it takes, for scheduling the longest work first
    estimate: float = 1.0


class Scanner(ABC):
    """A wrapped tool."""

    #: short tool name used on the command line (``--only bandit``)
    name: str
    category: Category
    #: the executable that must be present (checked before running); "" for in-process scanners
    binary: str
    #: True when the tool needs no network at run time
    offline: bool = True
    #: the tools.lock entry that installs it (defaults to ``name``)
    tool: str | None = None
    #: the lowest tool version whose output format this module understands
    min_version: str | None = None
    #: glob patterns (matched against the repo-relative path and the file name)
    patterns: tuple[str, ...] = ()
    #: how the tool's own levels map to our scale (shown in docs and reports)
    severity_doc: str = ""
    #: per-run time limit in seconds
    timeout: float = 600.0
    #: extra environment for every run of the tool (e.g. switching off telemetry)
    env: dict[str, str] = {}
    #: True when the findings in a file depend on that file alone (and the rules): the
    #: engine then caches results per file and runs the tool only on files that changed,
    #: in batches the cores share. Such a scanner keeps no state between ``scan`` calls.
    per_file: bool = False
    #: rough cost of one run, for scheduling the longest work first: seconds to start,
    #: and seconds per megabyte of input
    startup_seconds: float = 1.0
    seconds_per_mb: float = 1.0

    @classmethod
    def from_settings(cls, settings: ScanSettings) -> Scanner:
        """Build the scanner for one run; scanners that need configuration override this."""
        return cls()

    def applies_to(self, root: Path, files: list[Path]) -> list[Path]:
        """The files (repo-relative) this scanner would look at; empty means it does not run."""
        return match_files(files, self.patterns)

    @abstractmethod
    def scan(self, root: Path, files: list[Path]) -> list[Finding]:
        """Run the tool over ``files`` under ``root`` and return normalised findings."""

    def version_command(self) -> list[str] | None:
        """How to ask the tool its version (None for in-process scanners)."""
        return [self.binary, "--version"] if self.binary else None

    def parse_tool_version(self, output: str) -> str | None:
        """The version in the output of :meth:`version_command`."""
        return parse_version(output)

    def config_inputs(self, root: Path) -> list[Path]:
        """Files outside ``files`` whose content changes results (rules, tool config)."""
        return []

    def cache_key_extra(self) -> dict[str, Any]:
        """Settings that change results (included in the cache key)."""
        return {}

    def units(self, root: Path, files: list[Path]) -> list[Unit] | None:
        """Independent parts run (and cached) separately; None: the scanner is one unit."""
        return None

    def scan_unit(self, root: Path, unit: Unit) -> list[Finding]:
        """The findings of one of :meth:`units` (only called for scanners that have units)."""
        raise NotImplementedError(f"{self.name} has no units")

    def notes(self) -> list[ScanNote]:
        """Notes for the report, available after :meth:`scan` (data source and date, ...)."""
        return []

    def runs_without_files(self) -> bool:
        """True when the scanner reads more than the files in scope (git history), so it
        runs even when none of them applies (``--changed-since`` with nothing changed)."""
        return False


_VERSION = re.compile(r"v?(\d+(?:\.\d+)+)")


def parse_version(text: str) -> str | None:
    """The first dotted version number in a tool's ``--version`` output."""
    match = _VERSION.search(text)
    return match.group(1) if match else None


def match_files(files: list[Path], patterns: tuple[str, ...]) -> list[Path]:
    """Files whose repo-relative path or name matches one of the glob patterns."""
    out = []
    for f in files:
        posix = f.as_posix()
        if any(fnmatch.fnmatch(posix, p) or fnmatch.fnmatch(f.name, p) for p in patterns):
            out.append(f)
    return out
