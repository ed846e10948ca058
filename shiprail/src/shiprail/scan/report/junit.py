"""JUnit XML: one test suite per scanner; one failing test case per blocking finding, one
passing case per non-blocking finding (with its state), one case for a clean scanner, and
an error case for a scanner that is missing or crashed."""

from __future__ import annotations

import xml.etree.ElementTree as ET  # nosec B405 - we only build XML, never parse input

from shiprail.scan.runner import ScanOutcome


def render(outcome: ScanOutcome) -> str:
    suites = ET.Element("testsuites", name="shiprail scan")
    by_tool: dict[str, list] = {}
    for item in outcome.decision.items:
        by_tool.setdefault(item.finding.tool, []).append(item)
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for run in outcome.runs:
        suite = ET.SubElement(suites, "testsuite", name=run.name)
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        items = by_tool.get(run.name, [])
        if run.failed:
            case = ET.SubElement(suite, "testcase", classname=run.name, name=f"{run.name} runs")
            error = ET.SubElement(case, "error", message=f"{run.status}: {run.reason}")
            error.text = f"install: {run.install}" if run.install else run.reason
            counts["tests"] += 1
            counts["errors"] += 1
        elif run.status in ("skipped", "not-applicable"):
            case = ET.SubElement(suite, "testcase", classname=run.name, name=f"{run.name} runs")
            ET.SubElement(case, "skipped", message=run.reason or "no files it applies to")
            counts["tests"] += 1
            counts["skipped"] += 1
        elif not items:
            ET.SubElement(
                suite, "testcase", classname=run.name, name=f"{run.name}: {run.files} file(s) clean"
            )
            counts["tests"] += 1
        for item in items:
            f = item.finding
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"{run.name}.{item.category.value}",
                name=f"{f.rule.id} {f.path}:{f.start_line}",
                file=f.path,
                line=str(f.start_line),
            )
            counts["tests"] += 1
            if item.blocking:
                failure = ET.SubElement(
                    case, "failure", message=f"[{f.severity.value}] {f.message}", type=f.rule.id
                )
                failure.text = f"{f.path}:{f.start_line} fingerprint {item.fingerprint}"
                counts["failures"] += 1
            else:
                out = ET.SubElement(case, "system-out")
                out.text = f"[{f.severity.value}] {item.state}: {f.message}" + (
                    f" ({item.justification})" if item.justification else ""
                )
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
        suite.set("time", f"{run.seconds:.2f}")
    for key, value in totals.items():
        suites.set(key, str(value))
    ET.indent(suites)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
    )
