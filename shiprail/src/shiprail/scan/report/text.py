"""The human summary printed on stderr."""

from __future__ import annotations

from collections import Counter

from shiprail.scan.runner import ScanOutcome

ORDER = ("critical", "high", "medium", "low")


def scanner_lines(outcome: ScanOutcome) -> list[str]:
    lines = []
    for r in outcome.runs:
        if r.status in ("ran", "cached"):
            detail = f"{len(r.findings)} finding(s) in {r.files} file(s), {r.seconds:.1f}s"
            if r.status == "cached":
                detail += " (cached)"
        elif r.status == "not-applicable":
            detail = "no files it applies to"
        elif r.install:
            detail = f"{r.reason}; install: {r.install}"
        else:
            detail = r.reason or ""
        lines.append(f"  {r.name:<15} {r.status:<15} {detail}")
    return lines


def render(outcome: ScanOutcome) -> str:
    d = outcome.decision
    out = [outcome.header or f"shiprail scan: {outcome.files} file(s) in {outcome.seconds:.1f}s"]
    out += scanner_lines(outcome)
    shown = [i for i in d.items if i.state == "open"]
    listed = [i for i in shown if i.blocking or i.finding.severity.rank >= 2]
    if listed:
        out.append("open findings (medium and above; low ones are in the reports):")
        for item in listed[:200]:
            f = item.finding
            mark = "BLOCK" if item.blocking else "     "
            note = f" ({item.note})" if item.note else ""
            out.append(
                f"  {mark} {f.severity.value:<8} {item.category.value:<12} {f.path}:{f.start_line} "
                f"{f.tool}/{f.rule.id}: {f.message}{note}"
            )
        if len(listed) > 200:
            out.append(f"  ... and {len(listed) - 200} more (see the JSON/SARIF report)")
    states = Counter(i.state for i in d.items)
    quiet = {k: v for k, v in states.items() if k != "open"}
    if quiet:
        out.append("not blocking: " + ", ".join(f"{v} {k}" for k, v in sorted(quiet.items())))
    for ws in d.expired_waivers:
        out.append(
            f"warning: waiver #{ws.index + 1} expired, no longer applies: {ws.waiver.label()}"
        )
    for ws in d.expiring_waivers:
        out.append(
            f"warning: waiver #{ws.index + 1} expires in {ws.days_left} day(s): {ws.waiver.label()}"
        )
    for ws in d.unused_waivers:
        out.append(f"note: waiver #{ws.index + 1} matched nothing: {ws.waiver.label()}")
    for scan_note in outcome.notes:
        out.append(f"note: {scan_note.tool}: {scan_note.message}")
    counts = Counter(i.finding.severity.value for i in shown)
    summary = ", ".join(f"{counts[s]} {s}" for s in ORDER if counts[s]) or "none"
    if outcome.failed_scanners:
        names = ", ".join(r.name for r in outcome.failed_scanners)
        verdict = f"ERROR: scanner(s) missing or crashed: {names}"
    elif d.blocking:
        verdict = f"FAILED: {len(d.blocking)} blocking finding(s)"
    else:
        verdict = "PASSED"
    out.append(f"open findings: {summary}; threshold {outcome.settings.config.threshold.value}")
    out.append(f"gate: {verdict}")
    return "\n".join(out) + "\n"
