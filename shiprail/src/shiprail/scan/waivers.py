"""Waivers: accepted risks, each with a reason, an owner and an expiry date.

``.shiprail/waivers.yaml``::

    waivers:
      - fingerprint: 3f1c...          # one finding (from a report), or
        rule: B608                    # a rule ...
        path: "app/src/legacy/**"     # ... on a path glob (default: everywhere)
        reason: reviewed: the query takes no user input
        owner: team-payments
        expires: 2025-06-30

An expired waiver no longer applies (its findings block again) and is reported; one that
expires within 14 days still applies but warns; one that matched nothing is reported as
unused so the file does not rot.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from pydantic import Field, StringConstraints, model_validator

from shiprail.config import parse_yaml, read_text, validate
from shiprail.findings import Finding
from shiprail.scan.settings import WAIVER_WARN_DAYS
from shiprail.strict import StrictModel

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3)]


class Waiver(StrictModel):
    fingerprint: str | None = None
    rule: str | None = None
    path: str | None = None
    reason: Text
    owner: Text
    expires: dt.date

    @model_validator(mode="after")
    def _what(self) -> Waiver:
        if not self.fingerprint and not self.rule:
            raise ValueError("a waiver needs a 'fingerprint' or a 'rule' (with an optional 'path')")
        return self

    def matches(self, finding: Finding, fingerprint: str) -> bool:
        if self.fingerprint:
            return fingerprint == self.fingerprint or fingerprint.split(":")[0] == self.fingerprint
        if self.rule not in (finding.rule.id, f"{finding.tool}:{finding.rule.id}"):
            return False
        return self.path is None or fnmatch.fnmatch(finding.path, self.path)

    def label(self) -> str:
        what = self.fingerprint or f"{self.rule} on {self.path or '**'}"
        return f"{what} (owner {self.owner}, expires {self.expires.isoformat()})"


class WaiverFile(StrictModel):
    waivers: list[Waiver] = Field(default_factory=list)


@dataclass(frozen=True)
class WaiverStatus:
    waiver: Waiver
    index: int
    state: str  # "active", "expiring", "expired"
    days_left: int


def load(path: Path, display: str | None = None) -> list[Waiver]:
    """Read and validate the waiver file (missing file: no waivers)."""
    if not path.is_file():
        return []
    name = display or path.name
    data, node = parse_yaml(read_text(path, name), name)
    parsed: WaiverFile = validate(WaiverFile, data, node, name)
    return list(parsed.waivers)


def status(waivers: list[Waiver], today: dt.date) -> list[WaiverStatus]:
    out = []
    for index, waiver in enumerate(waivers):
        days = (waiver.expires - today).days
        if days < 0:
            state = "expired"
        elif days <= WAIVER_WARN_DAYS:
            state = "expiring"
        else:
            state = "active"
        out.append(WaiverStatus(waiver, index, state, days))
    return out
