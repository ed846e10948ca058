"""Report writers: one module per format, each ``render(outcome) -> str``."""

from __future__ import annotations

from collections.abc import Callable

from shiprail.scan.report.html import render as render_html
from shiprail.scan.report.json_report import render as render_json
from shiprail.scan.report.junit import render as render_junit
from shiprail.scan.report.markdown import render as render_markdown
from shiprail.scan.report.sarif_report import render as render_sarif
from shiprail.scan.report.text import render as render_text
from shiprail.scan.runner import ScanOutcome

FORMATS: dict[str, tuple[Callable[[ScanOutcome], str], str]] = {
    "text": (render_text, "txt"),
    "json": (render_json, "json"),
    "sarif": (render_sarif, "sarif"),
    "junit": (render_junit, "junit.xml"),
    "markdown": (render_markdown, "md"),
    "html": (render_html, "html"),
}


def render(fmt: str, outcome: ScanOutcome) -> str:
    return FORMATS[fmt][0](outcome)


def default_name(fmt: str) -> str:
    return f"scan.{FORMATS[fmt][1]}"
