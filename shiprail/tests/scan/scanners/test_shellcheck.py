"""shellcheck: its ``json1`` report, captured once (``data/shellcheck.json``) on a
purpose-made script (``data/input/shellcheck``), made into findings; one live run on it."""

from __future__ import annotations

from pathlib import Path

from ._support import CASES, FakeTool, crash_message, essentials, live, replay

CASE = CASES["shellcheck"]

EXPECTED = [
    ("SC2045", "medium", "cleanup.sh", 5),  # error
    ("SC2046", "medium", "cleanup.sh", 6),  # warning, raised: unquoted command substitution
    ("SC2068", "medium", "cleanup.sh", 6),  # error
    ("SC2164", "low", "cleanup.sh", 4),  # warning
]


def test_captured_report_becomes_findings(fake_tool: FakeTool) -> None:
    findings = replay(fake_tool, CASE)
    assert essentials(findings) == EXPECTED
    cd = next(f for f in findings if f.rule.id == "SC2164")
    assert cd.message == "Use 'cd ... || exit' or 'cd ... || return' in case cd fails."
    assert cd.rule.help_uri == "https://www.shellcheck.net/wiki/SC2164"


def test_style_notes_stay_out_of_the_gate(fake_tool: FakeTool) -> None:
    replay(fake_tool, CASE)
    [call] = fake_tool.calls("shellcheck")
    assert call["argv"][:3] == ["-f", "json1", "--severity=warning"]


def test_scripts_without_extension_are_found_by_shebang(tmp_path: Path) -> None:
    (tmp_path / "deploy").write_text("#!/usr/bin/env bash\necho hi\n")
    (tmp_path / "notes").write_text("just text\n")
    (tmp_path / "run.sh").write_text("echo hi\n")
    files = [Path("deploy"), Path("notes"), Path("run.sh")]
    assert CASE.make().applies_to(tmp_path, files) == [Path("deploy"), Path("run.sh")]


def test_no_findings_and_empty_output(fake_tool: FakeTool) -> None:
    fake_tool.replay("shellcheck", '{"comments": []}')
    assert CASE.scan() == []
    fake_tool.replay("shellcheck", "")
    assert CASE.scan() == []


def test_garbled_output_is_a_crash(fake_tool: FakeTool) -> None:
    message = crash_message(fake_tool, CASE, "cleanup.sh:4:1: warning: ...", exit_code=1)
    assert message.startswith("'shellcheck' did not produce JSON")
    assert "exited with 2" in crash_message(fake_tool, CASE, "", exit_code=2)


def test_live_run_matches_the_capture() -> None:
    assert essentials(live(CASE)) == EXPECTED
