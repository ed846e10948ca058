"""Stable fingerprints: rule + path + the normalised offending line.

A finding keeps its fingerprint when lines are added or removed elsewhere in the file (its
line number is not part of it) and when the offending line is only re-indented or re-spaced.
Identical offending lines in one file are told apart by their order (``:2``, ``:3``), so the
first occurrence keeps the plain fingerprint.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable

from shiprail.findings import Finding

_SPACE = re.compile(r"\s+")
#: SARIF ``partialFingerprints`` key; bump the version if the recipe ever changes.
FINGERPRINT_KEY = "shiprail/v1"


def normalise(line: str | None) -> str:
    return _SPACE.sub(" ", (line or "").strip())


def base_fingerprint(finding: Finding) -> str:
    material = "\x00".join((finding.rule.id, finding.path, normalise(finding.snippet)))
    return hashlib.sha256(material.encode("utf-8")).hexdigest()[:32]


def fingerprints(findings: Iterable[Finding]) -> list[str]:
    """Fingerprints in the order given; duplicates get an occurrence suffix by line order."""
    items = list(findings)
    order = sorted(range(len(items)), key=lambda i: (items[i].path, items[i].start_line, i))
    seen: Counter[str] = Counter()
    out = [""] * len(items)
    for index in order:
        base = base_fingerprint(items[index])
        seen[base] += 1
        out[index] = base if seen[base] == 1 else f"{base}:{seen[base]}"
    return out
