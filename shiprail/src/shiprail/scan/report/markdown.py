"""Markdown for a pull-request comment or the Actions step summary."""

from __future__ import annotations

from collections import Counter

from shiprail.scan.report.text import ORDER
from shiprail.scan.runner import ScanOutcome

ICON = {"critical": "🟥", "high": "🟧", "medium": "🟨", "low": "⬜"}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(outcome: ScanOutcome) -> str:
    d = outcome.decision
    if outcome.failed_scanners:
        verdict = "❗ **error**: a required scanner is missing or crashed"
    elif d.blocking:
        verdict = f"❌ **failed**: {len(d.blocking)} blocking finding(s)"
    else:
        verdict = "✅ **passed**"
    open_items = [i for i in d.items if i.state == "open"]
    counts = Counter(i.finding.severity.value for i in open_items)
    lines = [
        "## shiprail security gate",
        "",
        f"{verdict} — {outcome.files} files, {outcome.seconds:.1f}s, "
        f"threshold **{outcome.settings.config.threshold.value}**",
        "",
        "| severity | open |",
        "| --- | ---: |",
        *(f"| {ICON[s]} {s} | {counts[s]} |" for s in ORDER),
        "",
        "| scanner | category | status | findings | time |",
        "| --- | --- | --- | ---: | ---: |",
    ]
    for r in outcome.runs:
        status = r.status + (f": {_cell(r.reason)}" if r.reason else "")
        if r.install:
            status += f" (install: `{r.install}`)"
        lines.append(
            f"| {r.name} | {r.category.value} | {status} | {len(r.findings)} | {r.seconds:.1f}s |"
        )
    if open_items:
        lines += [
            "",
            "### Open findings",
            "",
            "| | severity | location | rule | message |",
            "| --- | --- | --- | --- | --- |",
        ]
        for item in open_items[:100]:
            f = item.finding
            mark = "**blocking**" if item.blocking else ""
            lines.append(
                f"| {mark} | {ICON[f.severity.value]} {f.severity.value} "
                f"| `{f.path}:{f.start_line}` "
                f"| {f.tool}/{_cell(f.rule.id)} | {_cell(f.message)} |"
            )
        if len(open_items) > 100:
            lines.append(f"\n… and {len(open_items) - 100} more in the SARIF report.")
    warnings = [
        *(f"waiver expired: {w.waiver.label()}" for w in d.expired_waivers),
        *(
            f"waiver expires in {w.days_left} day(s): {w.waiver.label()}"
            for w in d.expiring_waivers
        ),
        *(f"unused waiver: {w.waiver.label()}" for w in d.unused_waivers),
        *(f"{n.tool}: {n.message}" for n in outcome.notes),
    ]
    if warnings:
        lines += ["", "### Notes", "", *(f"- {_cell(w)}" for w in warnings)]
    quiet = Counter(i.state for i in d.items if i.state != "open")
    if quiet:
        lines += ["", "Not blocking: " + ", ".join(f"{v} {k}" for k, v in sorted(quiet.items()))]
    return "\n".join(lines) + "\n"
