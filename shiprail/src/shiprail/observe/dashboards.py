"""Grafana dashboards as code: read the committed JSON, check it, extract every panel query.

The drill evaluates every query against a live Prometheus, so a dashboard that references a
metric or a recording rule with a typo, or PromQL that does not parse, fails CI instead of
showing "No data" during an incident. Grafana's variables are replaced by values Prometheus
accepts (``$environment`` by ``.*``, ``$__rate_interval`` by a window).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from shiprail.errors import ConfigError

#: What Grafana would substitute; the drill only needs a valid value for each.
VARIABLE_VALUES = {
    "__rate_interval": "1m",
    "__interval": "1m",
    "__range": "1h",
    "environment": ".*",
}
_VARIABLE = re.compile(r"\$\{?(\w+)\}?")


def substitute(expr: str, values: dict[str, str] | None = None) -> str:
    table = {**VARIABLE_VALUES, **(values or {})}

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in table:
            raise ValueError(f"unknown dashboard variable ${name}")
        return table[name]

    return _VARIABLE.sub(replace, expr)


def _panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))  # rows hold collapsed panels


def load_dashboards(directory: Path) -> dict[Path, dict[str, Any]]:
    if not directory.is_dir():
        raise ConfigError("dashboards directory does not exist", path=str(directory))
    dashboards: dict[Path, dict[str, Any]] = {}
    for path in sorted(directory.glob("*.json")):
        try:
            dashboards[path] = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise ConfigError(f"invalid JSON: {exc.msg}", path=str(path), line=exc.lineno) from None
    return dashboards


def dashboard_queries(directory: Path) -> list[tuple[str, str]]:
    """(``file: panel title``, PromQL with variables substituted) for every panel target."""
    queries: list[tuple[str, str]] = []
    for path, dashboard in load_dashboards(directory).items():
        for panel in _panels(dashboard.get("panels", [])):
            for target in panel.get("targets", []):
                expr = target.get("expr")
                if expr:
                    where = f"{path.name}: {panel.get('title', '?')}"
                    queries.append((where, substitute(expr)))
    return queries


def check_dashboards(directory: Path) -> list[str]:
    """Problems Grafana would not report until someone opens the dashboard."""
    problems: list[str] = []
    uids: dict[str, Path] = {}
    for path, dashboard in load_dashboards(directory).items():
        uid = dashboard.get("uid")
        if not uid:
            problems.append(f"{path.name}: no uid (links and provisioning need a stable one)")
        elif uid in uids:
            problems.append(f"{path.name}: uid '{uid}' also used by {uids[uid].name}")
        else:
            uids[uid] = path
        if not dashboard.get("title"):
            problems.append(f"{path.name}: no title")
        panel_ids: set[int] = set()
        for panel in _panels(dashboard.get("panels", [])):
            if panel.get("type") == "row":
                continue
            title = panel.get("title", "?")
            if panel.get("id") in panel_ids:
                problems.append(f"{path.name}: panel id {panel.get('id')} used twice")
            panel_ids.add(panel.get("id", -1))
            targets = panel.get("targets", [])
            if panel.get("type") != "text" and not any(t.get("expr") for t in targets):
                problems.append(f"{path.name}: panel '{title}' has no query")
            for target in targets:
                try:
                    substitute(target.get("expr", ""))
                except ValueError as exc:
                    problems.append(f"{path.name}: panel '{title}': {exc}")
    return problems
