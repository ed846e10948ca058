"""bandit: its JSON report, captured once (``data/bandit.json``), made into findings; one
live run on the same corpus files."""

from __future__ import annotations

from ._support import CASES, FakeTool, crash_message, essentials, live, replay

CASE = CASES["bandit"]

EXPECTED = [
    ("B301", "medium", "app/cache.py", 7),
    ("B403", "low", "app/cache.py", 3),
    ("B404", "low", "app/run.py", 3),
    ("B501", "high", "app/client.py", 7),
    ("B602", "high", "app/run.py", 12),
    ("B608", "low", "app/db.py", 8),  # MEDIUM severity, LOW confidence: one step down
    ("B608", "medium", "app/db.py", 13),
]


def test_captured_report_becomes_findings(fake_tool: FakeTool) -> None:
    findings = replay(fake_tool, CASE, exit_code=1)  # bandit exits 1 when it finds something
    assert essentials(findings) == EXPECTED
    shell = next(f for f in findings if f.rule.id == "B602")
    assert shell.tool == "bandit"
    assert shell.message == "subprocess call with shell=True identified, security issue."
    assert shell.rule.name == "subprocess_popen_with_shell_equals_true"
    assert shell.rule.help_text == "bandit B602 (subprocess_popen_with_shell_equals_true), CWE-78"
    assert shell.rule.help_uri and "b602" in shell.rule.help_uri
    assert shell.properties == {"confidence": "high"}
    assert all(not f.path.startswith("./") for f in findings)  # bandit prints ./app/...


def test_nosec_is_left_to_shiprail(fake_tool: FakeTool) -> None:
    replay(fake_tool, CASE, exit_code=1)
    [call] = fake_tool.calls("bandit")
    assert call["argv"][:4] == ["-f", "json", "-q", "--ignore-nosec"]
    assert call["argv"][4:] == list(CASE.files)


def test_no_findings(fake_tool: FakeTool) -> None:
    fake_tool.replay("bandit", '{"errors": [], "metrics": {}, "results": []}')
    assert CASE.scan() == []


def test_empty_or_garbled_output_is_a_crash(fake_tool: FakeTool) -> None:
    assert crash_message(fake_tool, CASE, "") == (
        "'bandit' did not produce JSON (Expecting value): empty output"
    )
    message = crash_message(fake_tool, CASE, '{"results": [', exit_code=1)
    assert message.startswith("'bandit' did not produce JSON")
    assert "exited with 2" in crash_message(fake_tool, CASE, "", exit_code=2)


def test_live_run_matches_the_capture() -> None:
    assert essentials(live(CASE)) == EXPECTED
