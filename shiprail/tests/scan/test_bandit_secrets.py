"""bandit's hard-coded password checks quote the password; no finding may carry it.

B105, B106 and B107 say ``Possible hardcoded password: '<value>'``. That text became the
finding's message and rule description, so every report (SARIF, JSON, JUnit, Markdown, HTML)
and the scan cache copied the secret; the offending line (kept for the fingerprint) held it
too. The password here is made at run time.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
from pathlib import Path

from shiprail.scan.scanners.bandit import BanditScanner, without_value

from conftest import require_tools


def test_without_value_drops_the_quoted_value() -> None:
    value = secrets.token_hex(8)
    text = f"Possible hardcoded password: '{value}'"
    assert without_value(text) == "Possible hardcoded password (value not shown)"
    assert without_value("Use of assert detected.") == "Use of assert detected."


def test_hardcoded_password_findings_do_not_carry_the_password(tmp_path: Path) -> None:
    require_tools("bandit")
    value = "canary" + secrets.token_hex(10)
    (tmp_path / "settings.py").write_text(
        f'password = "{value}"\n'  # B105
        f'connect(password="{value}")\n'  # B106
        f'def login(user, password="{value}"):\n    return user\n'  # B107
    )
    findings = BanditScanner().scan(tmp_path, [Path("settings.py")])
    rules = {f.rule.id for f in findings}
    assert {"B105", "B106", "B107"} <= rules, rules
    everything = json.dumps([dataclasses.asdict(f) for f in findings], default=str)
    assert value not in everything
    for finding in findings:
        if finding.rule.id in {"B105", "B106", "B107"}:
            assert finding.message.endswith("(value not shown)"), finding.message
            assert (finding.snippet or "").startswith("sha256:"), finding.snippet
