"""One ``shiprail scan``: load the policy, run the engine, decide, and package the outcome
for the reports. The CLI only parses options and writes what this returns."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from shiprail.config import CONFIG_FILE, load_config
from shiprail.errors import EXIT_OK, EXIT_REFUSED, EXIT_TOOL, UsageError
from shiprail.scan import baseline as baseline_mod
from shiprail.scan import files as files_mod
from shiprail.scan import waivers as waivers_mod
from shiprail.scan.engine import Engine, ScannerRun
from shiprail.scan.gate import Decision, decide
from shiprail.scan.scanners import SCANNERS
from shiprail.scan.scanners.interface import Scanner, ScanNote
from shiprail.scan.settings import ScanConfig, ScanSettings


@dataclass
class ScanOutcome:
    settings: ScanSettings
    files: int
    runs: list[ScannerRun]
    decision: Decision
    started: dt.datetime
    seconds: float
    notes: list[ScanNote] = field(default_factory=list)
    #: what was scanned when it is not the files under ``settings.root`` (an image)
    target: str | None = None
    #: the first line of the human summary (default: files scanned and time)
    header: str | None = None

    @property
    def failed_scanners(self) -> list[ScannerRun]:
        return [r for r in self.runs if r.failed]

    @property
    def exit_code(self) -> int:
        if self.failed_scanners:
            return EXIT_TOOL
        return EXIT_REFUSED if self.decision.blocking else EXIT_OK

    @property
    def passed(self) -> bool:
        return self.exit_code == EXIT_OK


def load_scan_config(root: Path, config_file: Path | None = None) -> ScanConfig:
    """The ``scan:`` section of the scanned tree's shiprail.yaml (defaults when absent)."""
    path = config_file or root / CONFIG_FILE
    if config_file is not None and not config_file.is_file():
        raise UsageError(f"config file not found: {config_file}")
    if not path.is_file():
        return ScanConfig()
    scan = getattr(load_config(path), "scan", None)
    return scan if isinstance(scan, ScanConfig) else ScanConfig()


def build_scanners(settings: ScanSettings) -> list[Scanner]:
    return [cls.from_settings(settings) for cls in SCANNERS]


def run_scan(
    settings: ScanSettings,
    *,
    scanners: Sequence[Scanner] | None = None,
    baseline: Path | None = None,
    today: dt.date | None = None,
    progress: Callable[[str], None] | None = None,
) -> ScanOutcome:
    started_at = dt.datetime.now(dt.UTC)
    started = time.monotonic()
    root = settings.root
    if not root.is_dir():
        raise UsageError(f"not a directory: {root}")
    known = {s.name for s in (scanners or build_scanners(settings))}
    for name in (*settings.only, *settings.skip):
        if name not in known:
            raise UsageError(
                f"unknown scanner '{name}'", hint=f"choose from: {', '.join(sorted(known))}"
            )
    waiver_path = root / settings.config.waivers  # absolute paths stay absolute
    waivers = waivers_mod.load(waiver_path, settings.config.waivers)
    base = baseline_mod.read(baseline) if baseline else None
    ignore = [i.path for i in settings.config.ignore]
    files = files_mod.discover(root, ignore, settings.changed_since)
    engine = Engine(settings, scanners or build_scanners(settings), progress=progress)
    runs = engine.run(files)
    decision = decide(root, runs, settings.config, waivers, base, today)
    notes = [n for r in runs for n in r.notes]
    return ScanOutcome(
        settings=settings,
        files=len(files),
        runs=runs,
        decision=decision,
        started=started_at,
        seconds=time.monotonic() - started,
        notes=notes,
    )


def baseline_entries(outcome: ScanOutcome) -> list[dict[str, object]]:
    return [
        {
            "fingerprint": item.fingerprint,
            "tool": item.finding.tool,
            "rule": item.finding.rule.id,
            "path": item.finding.path,
            "line": item.finding.start_line,
            "severity": item.finding.severity.value,
        }
        for item in outcome.decision.items
        if item.state in ("open", "baselined")
    ]
