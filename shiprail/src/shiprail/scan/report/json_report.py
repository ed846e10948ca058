"""JSON: the whole outcome - decision, every scanner's status, findings, waivers, notes."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from shiprail.scan.runner import ScanOutcome
from shiprail.scan.waivers import WaiverStatus


def _waiver(ws: WaiverStatus) -> dict[str, Any]:
    w = ws.waiver
    return {
        "index": ws.index,
        "fingerprint": w.fingerprint,
        "rule": w.rule,
        "path": w.path,
        "owner": w.owner,
        "reason": w.reason,
        "expires": w.expires.isoformat(),
        "days_left": ws.days_left,
        "state": ws.state,
    }


def data(outcome: ScanOutcome) -> dict[str, Any]:
    d = outcome.decision
    open_items = [i for i in d.items if i.state == "open"]
    return {
        "version": 1,
        "root": str(outcome.settings.root),
        **({"target": outcome.target} if outcome.target else {}),
        "started": outcome.started.isoformat(timespec="seconds"),
        "seconds": round(outcome.seconds, 2),
        "files": outcome.files,
        "offline": outcome.settings.is_offline,
        "threshold": outcome.settings.config.threshold.value,
        "passed": outcome.passed,
        "exit_code": outcome.exit_code,
        "summary": {
            "findings": len(d.items),
            "blocking": len(d.blocking),
            "open_by_severity": dict(Counter(i.finding.severity.value for i in open_items)),
            "by_tool": dict(Counter(i.finding.tool for i in d.items)),
            "by_state": dict(Counter(i.state for i in d.items)),
        },
        "scanners": [
            {
                "name": r.name,
                "category": r.category.value,
                "status": r.status,
                "reason": r.reason,
                "install": r.install,
                "version": r.version,
                "files": r.files,
                "seconds": round(r.seconds, 2),
                "findings": len(r.findings),
            }
            for r in outcome.runs
        ],
        "findings": [
            {
                "fingerprint": i.fingerprint,
                "tool": i.finding.tool,
                "rule": i.finding.rule.id,
                "rule_name": i.finding.rule.name,
                "severity": i.finding.severity.value,
                "category": i.category.value,
                "path": i.finding.path,
                "line": i.finding.start_line,
                "message": i.finding.message,
                "help_uri": i.finding.rule.help_uri,
                "state": i.state,
                "blocking": i.blocking,
                "justification": i.justification,
                "note": i.note,
                **(
                    {"commit": i.finding.properties["commit"]}
                    if "commit" in i.finding.properties
                    else {}
                ),
            }
            for i in d.items
        ],
        "waivers": {
            "expired": [_waiver(w) for w in d.expired_waivers],
            "expiring": [_waiver(w) for w in d.expiring_waivers],
            "unused": [_waiver(w) for w in d.unused_waivers],
        },
        "notes": [{"tool": n.tool, "message": n.message} for n in outcome.notes],
    }


def render(outcome: ScanOutcome) -> str:
    return json.dumps(data(outcome), indent=2) + "\n"
