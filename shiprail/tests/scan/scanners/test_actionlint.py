"""actionlint: its JSON report, captured once (``data/actionlint.json``) on a purpose-made
workflow (``data/input/actionlint``), made into findings; one live run on it."""

from __future__ import annotations

from ._support import CASES, FakeTool, crash_message, essentials, live, replay

CASE = CASES["actionlint"]
WORKFLOW = ".github/workflows/release.yml"

EXPECTED = [
    ("expression", "medium", WORKFLOW, 12),
    ("syntax-check", "medium", WORKFLOW, 8),
    ("untrusted-input", "high", WORKFLOW, 11),  # the issue title in a run: script
]


def test_captured_report_becomes_findings(fake_tool: FakeTool) -> None:
    findings = replay(fake_tool, CASE, exit_code=1)  # actionlint exits 1 on findings
    assert essentials(findings) == EXPECTED
    by_rule = {f.rule.id: f for f in findings}
    assert by_rule["syntax-check"].message == '"runs-on" section is missing in job "notify"'
    injection = by_rule["untrusted-input"]
    assert injection.message.startswith('"github.event.issue.title" is potentially untrusted')
    assert injection.rule.help_text == (
        "Pass untrusted values through env: and quote them in the script."
    )


def test_output_does_not_depend_on_other_installed_linters(fake_tool: FakeTool) -> None:
    replay(fake_tool, CASE, exit_code=1)
    [call] = fake_tool.calls("actionlint")
    assert call["argv"][:4] == ["-format", "{{json .}}", "-shellcheck=", "-pyflakes="]


def test_no_findings_and_empty_output(fake_tool: FakeTool) -> None:
    fake_tool.replay("actionlint", "[]")
    assert CASE.scan() == []
    fake_tool.replay("actionlint", "")
    assert CASE.scan() == []


def test_garbled_output_is_a_crash(fake_tool: FakeTool) -> None:
    message = crash_message(fake_tool, CASE, "could not read workflow", exit_code=1)
    assert message.startswith("'actionlint' did not produce JSON")
    assert "exited with 3" in crash_message(fake_tool, CASE, "", exit_code=3)


def test_live_run_matches_the_capture() -> None:
    assert essentials(live(CASE)) == EXPECTED
