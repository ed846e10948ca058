"""semgrep with our rules (``policies/semgrep``): its JSON report, captured once
(``data/semgrep.json``), made into findings; one live run on the same corpus files."""

from __future__ import annotations

import json

from ._support import CASES, Category, FakeTool, crash_message, essentials, live, replay

CASE = CASES["semgrep"]

EXPECTED = [
    ("shiprail-compose-docker-socket", "critical", "compose/stack.yaml", 9),
    ("shiprail-compose-docker-socket", "critical", "compose/stack.yaml", 13),
    ("shiprail-compose-docker-socket", "critical", "docker-compose.yml", 6),
    ("shiprail-compose-privileged", "high", "compose/stack.yaml", 6),
    ("shiprail-dockerfile-curl-pipe-shell", "high", "Dockerfile", 3),
    ("shiprail-sql-string-formatting", "high", "app/db.py", 8),
    ("shiprail-sql-string-formatting", "high", "app/db.py", 13),
    ("shiprail-subprocess-shell-true", "high", "app/run.py", 12),
    ("shiprail-tls-verification-disabled", "high", "app/client.py", 7),
    ("shiprail-unsafe-deserialization", "high", "app/cache.py", 7),
]


def test_captured_report_becomes_findings(fake_tool: FakeTool) -> None:
    findings = replay(fake_tool, CASE)
    assert essentials(findings) == EXPECTED
    sql = next(f for f in findings if f.rule.id == "shiprail-sql-string-formatting")
    assert (sql.start_line, sql.end_line) == (8, 9)  # a match over two lines
    assert sql.message.startswith("SQL built by string formatting; user input can change")
    assert sql.properties == {"cwe": "CWE-89"}
    assert sql.category is None  # the scanner's own category (sast)
    by_rule = {f.rule.id: f.category for f in findings}
    assert by_rule["shiprail-compose-privileged"] == Category.iac  # from metadata.category
    assert by_rule["shiprail-dockerfile-curl-pipe-shell"] == Category.container


def test_runs_offline_and_hands_nosemgrep_to_shiprail(fake_tool: FakeTool) -> None:
    replay(fake_tool, CASE)
    [call] = fake_tool.calls("semgrep")
    for flag in ("--metrics=off", "--disable-version-check", "--disable-nosem", "--json"):
        assert flag in call["argv"]


def test_no_findings(fake_tool: FakeTool) -> None:
    fake_tool.replay("semgrep", json.dumps({"results": [], "errors": [], "paths": {}}))
    assert CASE.scan() == []


def test_rule_errors_without_results_are_a_crash(fake_tool: FakeTool) -> None:
    report = {"results": [], "errors": [{"level": "error", "message": "invalid rule"}]}
    message = crash_message(fake_tool, CASE, json.dumps(report), exit_code=1)
    assert message == "semgrep failed: invalid rule"


def test_empty_or_garbled_output_is_a_crash(fake_tool: FakeTool) -> None:
    assert crash_message(fake_tool, CASE, "") == (
        "'semgrep' did not produce JSON (Expecting value): empty output"
    )
    assert crash_message(fake_tool, CASE, "not json").startswith("'semgrep' did not produce JSON")
    assert "exited with 2" in crash_message(fake_tool, CASE, "", exit_code=2)


def test_live_run_matches_the_capture() -> None:
    assert essentials(live(CASE)) == EXPECTED
