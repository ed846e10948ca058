"""Inline suppressions count only when they give a reason.

The tools are run so that they report findings even on lines carrying their own
suppression comment (``bandit --ignore-nosec``, ``semgrep --disable-nosem``, detect-secrets
without its allowlist filter); this module then reads the offending line and the line above
it. A marker followed by a reason (``# nosec B603 - argument list, never a shell``)
suppresses the finding and the reason is kept in the SARIF output; a bare marker is ignored
and the report says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from shiprail.findings import Finding

_MARKERS = (
    r"nosec",
    r"nosemgrep",
    r"noqa",
    r"pragma:\s*allowlist\s+secret",
    r"gitleaks:allow",
    r"checkov:skip",
    r"hadolint\s+ignore",
    r"shellcheck\s+disable",
    r"shiprail:\s*ignore",
)
_MARKER = re.compile(r"(?:#|//|--)\s*(" + "|".join(_MARKERS) + r")\b(.*)", re.IGNORECASE)
# rule ids directly after a marker: B603, CKV_AWS_20, SC2086, DL3008, python.lang.x, S603 ...
_IDS = re.compile(r"^[\s:=,\[\]]*(?:[A-Za-z][\w.\-/]*\d[\w.\-/]*|[a-z][\w\-]*(?:\.[\w\-]+)+)")
_NEXT_MARKER = re.compile(r"#\s*(?:" + "|".join(_MARKERS) + r")\b", re.IGNORECASE)


@dataclass(frozen=True)
class Inline:
    marker: str
    reason: str | None


def parse(line: str) -> Inline | None:
    """The suppression comment on ``line``, if any, with its reason (None when bare)."""
    match = _MARKER.search(line)
    if not match:
        return None
    marker, rest = match.group(1).lower(), match.group(2)
    # stop at a following marker of another tool on the same line
    nxt = _NEXT_MARKER.search(rest)
    if nxt:
        rest = rest[: nxt.start()]
    while True:
        ids = _IDS.match(rest)
        if not ids or not ids.group(0).strip(" :=,[]"):
            break
        rest = rest[ids.end() :]
    reason = rest.strip().lstrip("-:=,;]) ").strip()
    return Inline(marker, reason if re.search(r"[A-Za-z]{3,}", reason) else None)


def lookup(root: Path, finding: Finding, lines_cache: dict[str, list[str]]) -> Inline | None:
    """The suppression for ``finding``: on its line, else alone on the line above."""
    lines = lines_cache.get(finding.path)
    if lines is None:
        try:
            text = (root / finding.path).read_text(encoding="utf-8", errors="replace")
            lines = text.splitlines()
        except OSError:
            lines = []
        lines_cache[finding.path] = lines
    index = finding.start_line - 1
    if 0 <= index < len(lines) and (found := parse(lines[index])):
        return found
    if 1 <= index <= len(lines):
        above = lines[index - 1]
        if above.lstrip().startswith(("#", "//")) and (found := parse(above)):
            return found
    return None
