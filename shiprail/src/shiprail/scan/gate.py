"""The decision: which findings block, and why the others do not.

Order of judgement for each finding: an inline suppression with a reason (suppressed), an
active waiver (waived; an expired one no longer applies), the baseline (baselined), else
open. An open finding blocks when its severity reaches the threshold of its category
(``scan.categories``) or the global ``scan.threshold``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from shiprail.findings import Category, Finding, Severity
from shiprail.scan import suppress
from shiprail.scan.engine import ScannerRun
from shiprail.scan.fingerprint import fingerprints
from shiprail.scan.settings import ScanConfig
from shiprail.scan.waivers import Waiver, WaiverStatus, status

OPEN, SUPPRESSED, WAIVED, BASELINED = "open", "suppressed", "waived", "baselined"


@dataclass
class Item:
    finding: Finding
    fingerprint: str
    category: Category
    state: str = OPEN
    blocking: bool = False
    justification: str | None = None  # suppression reason or waiver label
    note: str | None = None  # e.g. "inline suppression without a reason is ignored"


@dataclass
class Decision:
    items: list[Item]
    waivers: list[WaiverStatus]
    unused_waivers: list[WaiverStatus] = field(default_factory=list)

    @property
    def blocking(self) -> list[Item]:
        return [i for i in self.items if i.blocking]

    @property
    def expired_waivers(self) -> list[WaiverStatus]:
        return [w for w in self.waivers if w.state == "expired"]

    @property
    def expiring_waivers(self) -> list[WaiverStatus]:
        return [w for w in self.waivers if w.state == "expiring"]


def threshold_for(config: ScanConfig, category: Category) -> Severity:
    return config.categories.get(category, config.threshold)


def decide(
    root: Path,
    runs: list[ScannerRun],
    config: ScanConfig,
    waivers: list[Waiver],
    baseline: set[str] | None = None,
    today: dt.date | None = None,
) -> Decision:
    today = today or dt.date.today()
    statuses = status(waivers, today)
    findings: list[tuple[Finding, Category]] = [
        (f, f.category or run.category) for run in runs for f in run.findings
    ]
    prints = fingerprints(f for f, _ in findings)
    used: set[int] = set()
    lines: dict[str, list[str]] = {}
    items = []
    for (finding, category), fingerprint in zip(findings, prints, strict=True):
        item = Item(finding, fingerprint, category)
        inline = None
        if reason := finding.properties.get("suppression"):
            item.state, item.justification = SUPPRESSED, reason
        else:
            inline = suppress.lookup(root, finding, lines)
            if inline and inline.reason:
                item.state, item.justification = SUPPRESSED, f"{inline.marker}: {inline.reason}"
            elif inline:
                item.note = f"'{inline.marker}' without a reason does not count"
        if item.state == OPEN:
            for ws in statuses:
                if not ws.waiver.matches(finding, fingerprint):
                    continue
                used.add(ws.index)
                if ws.state == "expired":
                    item.note = f"waiver expired on {ws.waiver.expires.isoformat()}"
                    continue
                item.state = WAIVED
                item.justification = f"{ws.waiver.reason} ({ws.waiver.label()})"
                break
        if item.state == OPEN and baseline and fingerprint in baseline:
            item.state = BASELINED
        item.blocking = item.state == OPEN and (
            finding.severity.rank >= threshold_for(config, category).rank
        )
        items.append(item)
    unused = [ws for ws in statuses if ws.index not in used]
    items.sort(key=lambda i: (-i.finding.severity.rank, i.finding.path, i.finding.start_line))
    return Decision(items, statuses, unused)
