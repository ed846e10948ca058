"""A single-file HTML report: counts by severity and by tool, and a findings table with
filters (severity, tool, category, state, free text). No external assets, so it opens
offline and can be attached to a CI run."""

from __future__ import annotations

import json
from collections import Counter
from html import escape

from shiprail.scan.report.json_report import data
from shiprail.scan.report.text import ORDER
from shiprail.scan.runner import ScanOutcome

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse;width:100%;margin:1rem 0}
th,td{border:1px solid #ddd;padding:.3rem .5rem;text-align:left;font-size:.9rem;vertical-align:top}
th{background:#f4f4f4}.critical{background:#fdd}.high{background:#fed}.medium{background:#ffd}
.low{background:#f8f8f8}.cards span{display:inline-block;margin:.2rem .6rem .2rem 0;
padding:.4rem .8rem;border-radius:.3rem;border:1px solid #ccc}
.filters select,.filters input{margin-right:.6rem}code{font-size:.85rem}
"""

_SCRIPT = """
const rows=[...document.querySelectorAll('#findings tbody tr')];
function apply(){const v=id=>document.getElementById(id).value.toLowerCase();
 const s=v('f-sev'),t=v('f-tool'),c=v('f-cat'),st=v('f-state'),q=v('f-text');let n=0;
 rows.forEach(r=>{const d=r.dataset;const ok=(!s||d.severity===s)&&(!t||d.tool===t)&&
 (!c||d.category===c)&&(!st||d.state===st)&&(!q||r.textContent.toLowerCase().includes(q));
 r.style.display=ok?'':'none';if(ok)n++;});document.getElementById('shown').textContent=n;}
document.querySelectorAll('.filters select,.filters input')
 .forEach(e=>e.addEventListener('input',apply));
apply();
"""


def _select(ident: str, label: str, values: list[str]) -> str:
    options = "".join(f"<option>{escape(v)}</option>" for v in values)
    return (
        f'<label>{label} <select id="{ident}"><option value="">all</option>'
        f"{options}</select></label>"
    )


def render(outcome: ScanOutcome) -> str:
    report = data(outcome)
    items = report["findings"]
    verdict = (
        "error: a required scanner is missing or crashed"
        if outcome.failed_scanners
        else ("FAILED" if report["summary"]["blocking"] else "PASSED")
    )
    sev = Counter(i["severity"] for i in items if i["state"] == "open")
    tools = Counter(i["tool"] for i in items)
    rows = []
    for i in items:
        rows.append(
            f'<tr class="{i["severity"]}" data-severity="{i["severity"]}" '
            f'data-tool="{escape(i["tool"])}"'
            f' data-category="{i["category"]}" data-state="{i["state"]}">'
            f"<td>{'yes' if i['blocking'] else ''}</td><td>{i['severity']}</td>"
            f"<td>{escape(i['tool'])}</td><td>{i['category']}</td>"
            f"<td><code>{escape(i['path'])}:{i['line']}</code></td>"
            f"<td>{escape(i['rule'])}</td><td>{escape(i['message'])}</td>"
            f"<td>{i['state']}{(' — ' + escape(i['justification'])) if i['justification'] else ''}"
            f"</td><td><code>{escape(i['fingerprint'])}</code></td></tr>"
        )
    scanners = "".join(
        f"<tr><td>{escape(s['name'])}</td><td>{s['category']}</td><td>{escape(s['status'])}"
        f"{(': ' + escape(s['reason'])) if s['reason'] else ''}"
        f"{(' — install: <code>' + escape(s['install']) + '</code>') if s['install'] else ''}</td>"
        f"<td>{s['files']}</td><td>{s['findings']}</td><td>{s['seconds']}s</td></tr>"
        for s in report["scanners"]
    )
    notes = "".join(
        f"<li>{escape(n['tool'])}: {escape(n['message'])}</li>" for n in report["notes"]
    )
    for key, label in (("expired", "expired"), ("expiring", "expiring soon"), ("unused", "unused")):
        for w in report["waivers"][key]:
            what = w["fingerprint"] or f"{w['rule']} on {w['path'] or '**'}"
            owner = escape(w["owner"])
            notes += f"<li>waiver {label}: {escape(what)} (owner {owner}, {w['expires']})</li>"
    values = lambda key: sorted({str(i[key]) for i in items})  # noqa: E731
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>shiprail scan: {verdict}</title>
<style>{_STYLE}</style></head><body>
<h1>shiprail security gate: {verdict}</h1>
<p>{report["files"]} files, {report["seconds"]}s, threshold <b>{report["threshold"]}</b>,
started {report["started"]}{", offline" if report["offline"] else ""}.</p>
<div class="cards"><b>Open by severity:</b>
{"".join(f'<span class="{s}">{s}: {sev[s]}</span>' for s in ORDER)}</div>
<div class="cards"><b>By tool:</b>
{"".join(f"<span>{escape(t)}: {n}</span>" for t, n in sorted(tools.items()))}</div>
<h2>Scanners</h2><table><thead><tr><th>scanner</th><th>category</th><th>status</th>
<th>files</th><th>findings</th><th>time</th></tr></thead><tbody>{scanners}</tbody></table>
{f"<h2>Notes</h2><ul>{notes}</ul>" if notes else ""}
<h2>Findings (<span id="shown">{len(items)}</span> shown)</h2>
<div class="filters">{_select("f-sev", "severity", [s for s in ORDER if s in values("severity")])}
{_select("f-tool", "tool", values("tool"))}{_select("f-cat", "category", values("category"))}
{_select("f-state", "state", values("state"))}
<label>text <input id="f-text" type="search"></label></div>
<table id="findings"><thead><tr><th>blocking</th><th>severity</th><th>tool</th><th>category</th>
<th>location</th><th>rule</th><th>message</th><th>state</th><th>fingerprint</th></tr></thead>
<tbody>{"".join(rows)}</tbody></table>
<script type="application/json" id="data">{escape(json.dumps(report["summary"]))}</script>
<script>{_SCRIPT}</script></body></html>
"""
