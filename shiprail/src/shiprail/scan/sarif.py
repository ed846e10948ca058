"""SARIF 2.1.0 as GitHub code scanning accepts it: one run per tool, rules with short and
full descriptions and help, repo-relative URIs (``%SRCROOT%``), 1-based lines,
``properties.security-severity`` and stable ``partialFingerprints``. Suppressed, waived and
baselined results are kept with a SARIF ``suppressions`` entry, so the history is visible.
"""

from __future__ import annotations

from typing import Any

from shiprail import __version__
from shiprail.scan.engine import ScannerRun
from shiprail.scan.fingerprint import FINGERPRINT_KEY
from shiprail.scan.gate import BASELINED, SUPPRESSED, WAIVED, Decision, Item

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
TOOL_URIS = {
    "bandit": "https://github.com/PyCQA/bandit",
    "semgrep": "https://semgrep.dev",
    "detect-secrets": "https://github.com/Yelp/detect-secrets",
    "gitleaks": "https://github.com/gitleaks/gitleaks",
    "osv": "https://github.com/pypa/advisory-database",
    "pip-audit": "https://github.com/pypa/pip-audit",
    "checkov": "https://www.checkov.io",
    "hadolint": "https://github.com/hadolint/hadolint",
    "actionlint": "https://github.com/rhysd/actionlint",
    "shellcheck": "https://www.shellcheck.net",
}


def _result(item: Item, rule_index: int) -> dict[str, Any]:
    f = item.finding
    region: dict[str, Any] = {"startLine": f.start_line}
    if f.end_line and f.end_line >= f.start_line:
        region["endLine"] = f.end_line
    result: dict[str, Any] = {
        "ruleId": f.rule.id,
        "ruleIndex": rule_index,
        "level": f.severity.sarif_level,
        "message": {"text": f.message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": f.path, "uriBaseId": "%SRCROOT%"},
                    "region": region,
                }
            }
        ],
        "partialFingerprints": {FINGERPRINT_KEY: item.fingerprint},
        "properties": {
            "security-severity": f.severity.security_severity,
            "severity": f.severity.value,
            "category": item.category.value,
            "state": item.state,
            "blocking": item.blocking,
            **({"note": item.note} if item.note else {}),
            **{k: v for k, v in f.properties.items() if v and k != "suppression"},
        },
    }
    if item.state in (SUPPRESSED, WAIVED, BASELINED):
        kind = "inSource" if item.state == SUPPRESSED else "external"
        result["suppressions"] = [{"kind": kind, "justification": item.justification or item.state}]
    return result


def build(runs: list[ScannerRun], decision: Decision) -> dict[str, Any]:
    by_tool: dict[str, list[Item]] = {}
    for item in decision.items:
        by_tool.setdefault(item.finding.tool, []).append(item)
    sarif_runs = []
    for run in runs:
        if run.status not in ("ran", "cached"):
            continue
        items = by_tool.get(run.name, [])
        rules: list[dict[str, Any]] = []
        index: dict[str, int] = {}
        for item in items:
            rule = item.finding.rule
            if rule.id in index:
                continue
            index[rule.id] = len(rules)
            rules.append(
                {
                    "id": rule.id,
                    "name": rule.name,
                    "shortDescription": {"text": rule.description[:1000] or rule.id},
                    "fullDescription": {"text": rule.description or rule.id},
                    "help": {
                        "text": rule.help_text or rule.description or rule.id,
                        "markdown": (rule.help_text or rule.description or rule.id)
                        + (f"\n\n[More information]({rule.help_uri})" if rule.help_uri else ""),
                    },
                    **({"helpUri": rule.help_uri} if rule.help_uri else {}),
                    "defaultConfiguration": {"level": item.finding.severity.sarif_level},
                    "properties": {
                        "security-severity": item.finding.severity.security_severity,
                        "tags": ["security", item.category.value],
                    },
                }
            )
        driver: dict[str, Any] = {
            "name": run.name,
            "informationUri": TOOL_URIS.get(run.name, "https://github.com"),
            "rules": rules,
        }
        if run.version and not run.version.startswith("unknown"):
            driver["semanticVersion"] = run.version
            driver["version"] = run.version
        sarif_runs.append(
            {
                "tool": {"driver": driver},
                "automationDetails": {"id": f"shiprail/{run.name}/"},
                "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "repository root"}}},
                "results": [_result(item, index[item.finding.rule.id]) for item in items],
                "properties": {"category": run.category.value, "shiprail": __version__},
            }
        )
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": sarif_runs}
