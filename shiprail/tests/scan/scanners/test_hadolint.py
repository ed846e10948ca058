"""hadolint: its JSON report, captured once (``data/hadolint.json``) on a purpose-made
Dockerfile (``data/input/hadolint``), made into findings; one live run on the same file."""

from __future__ import annotations

from ._support import CASES, FakeTool, crash_message, essentials, live, replay

CASE = CASES["hadolint"]

EXPECTED = [
    ("DL3000", "high", "Dockerfile", 3),  # error
    ("DL3002", "high", "Dockerfile", 5),  # warning, raised: the container runs as root
    ("DL3003", "medium", "Dockerfile", 4),  # warning
    ("DL3007", "medium", "Dockerfile", 1),
    ("DL3066", "low", "Dockerfile", 5),  # info
    ("SC2005", "low", "Dockerfile", 4),  # style, from the shell inside RUN
]


def test_captured_report_becomes_findings(fake_tool: FakeTool) -> None:
    findings = replay(fake_tool, CASE)
    assert essentials(findings) == EXPECTED
    by_rule = {f.rule.id: f for f in findings}
    assert by_rule["DL3002"].message == "Last USER should not be root"
    assert by_rule["DL3002"].rule.help_uri == "https://github.com/hadolint/hadolint/wiki/DL3002"
    assert by_rule["SC2005"].rule.help_uri == "https://www.shellcheck.net/wiki/SC2005"
    assert by_rule["SC2005"].rule.help_text == "ShellCheck SC2005"


def test_no_findings_and_empty_output(fake_tool: FakeTool) -> None:
    fake_tool.replay("hadolint", "[]")
    assert CASE.scan() == []
    fake_tool.replay("hadolint", "")
    assert CASE.scan() == []


def test_garbled_output_is_a_crash(fake_tool: FakeTool) -> None:
    message = crash_message(fake_tool, CASE, "hadolint: Dockerfile: openFile: does not exist")
    assert message.startswith("'hadolint' did not produce JSON")
    assert "openFile: does not exist" in message
    assert "exited with 2" in crash_message(fake_tool, CASE, "", exit_code=2)


def test_live_run_matches_the_capture() -> None:
    assert essentials(live(CASE)) == EXPECTED
