"""SARIF 2.1.0 (see ``shiprail.scan.sarif``)."""

from __future__ import annotations

import json

from shiprail.scan import sarif
from shiprail.scan.runner import ScanOutcome


def render(outcome: ScanOutcome) -> str:
    return json.dumps(sarif.build(outcome.runs, outcome.decision), indent=2) + "\n"
