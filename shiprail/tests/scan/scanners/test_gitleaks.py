"""gitleaks: its JSON report, captured once (``data/gitleaks.json``, values redacted by
``--redact``) on the corpus' fake keys, made into findings; one live run on the same files.

gitleaks scans a temporary tree of links to the files in scope and names each finding by
the link and its target; the capture keeps both (as ``@ARG2@`` and ``@ROOT@``)."""

from __future__ import annotations

from ._support import CASES, FakeTool, crash_message, essentials, live, load_fixture, replay

CASE = CASES["gitleaks"]

EXPECTED = [
    ("gitleaks.aws-access-token", "high", "app/settings.py", 3),
    ("gitleaks.private-key", "critical", "keys/deploy_key.pem", 1),
]


def test_captured_report_becomes_findings(fake_tool: FakeTool) -> None:
    findings = replay(fake_tool, CASE)
    assert essentials(findings) == EXPECTED
    key = next(f for f in findings if f.rule.id == "gitleaks.private-key")
    assert (key.start_line, key.end_line) == (1, 8)
    assert key.message == (
        "Identified a Private Key, which may compromise cryptographic security and sensitive "
        "data encryption. (value not shown)"
    )
    assert key.snippet is None and key.properties == {}  # working tree, not history


def test_the_capture_and_the_findings_hold_no_secret(fake_tool: FakeTool) -> None:
    assert {item["Secret"] for item in load_fixture(CASE.fixture)} == {"REDACTED"}
    replay(fake_tool, CASE)
    [call] = fake_tool.calls("gitleaks")
    assert call["argv"][0] == "dir" and "--redact" in call["argv"]
    assert "--ignore-gitleaks-allow" in call["argv"]


def test_results_outside_the_files_in_scope_are_dropped(fake_tool: FakeTool) -> None:
    fake_tool.replay_fixture(CASE)
    findings = CASE.make().scan(CASE.root, [CASE.paths()[0]])
    assert essentials(findings) == EXPECTED[:1]


def test_no_findings_and_empty_output(fake_tool: FakeTool) -> None:
    fake_tool.replay("gitleaks", "[]")
    assert CASE.scan() == []
    fake_tool.replay("gitleaks", "")
    assert CASE.scan() == []


def test_garbled_output_is_a_crash(fake_tool: FakeTool) -> None:
    message = crash_message(fake_tool, CASE, '[{"RuleID": "aws')
    assert message.startswith("'gitleaks' did not produce JSON")
    assert "exited with 1" in crash_message(fake_tool, CASE, "", exit_code=1)


def test_live_run_matches_the_capture() -> None:
    assert essentials(live(CASE)) == EXPECTED
