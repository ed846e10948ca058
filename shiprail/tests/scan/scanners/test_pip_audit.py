"""pip-audit: its JSON report made into findings. The capture (``data/pip_audit.json``) is
what pip-audit prints where its vulnerability service cannot be reached, as here and in CI:
every package skipped, which the report must say. pip-audit is online-only, so the live run
asserts only what holds with or without the service."""

from __future__ import annotations

import json

from ._support import CASES, FakeTool, crash_message, load_fixture, replay
from conftest import require_tools

CASE = CASES["pip-audit"]


def test_unreachable_service_is_a_note_not_a_finding(fake_tool: FakeTool) -> None:
    scanner = CASE.make()
    fake_tool.replay_fixture(CASE)
    assert scanner.scan(CASE.root, CASE.paths()) == []
    [note] = scanner.notes()
    assert note.message.startswith("pip-audit could not audit 1 package(s)")
    assert [d["name"] for d in load_fixture(CASE.fixture)["dependencies"]] == ["jinja2"]


def test_a_reported_vulnerability_becomes_a_finding(fake_tool: FakeTool) -> None:
    """The report shape pip-audit documents for a vulnerable pin (not capturable offline)."""
    report = {
        "dependencies": [
            {
                "name": "jinja2",
                "version": "2.10",
                "vulns": [
                    {
                        "id": "PYSEC-2019-217",
                        "fix_versions": ["2.10.1"],
                        "aliases": ["CVE-2019-10906"],
                        "description": "Jinja2 sandbox escape via str.format_map.\nMore.",
                    }
                ],
            }
        ],
        "fixes": [],
    }
    fake_tool.replay("pip-audit", json.dumps(report), exit_code=1)
    [finding] = CASE.scan()
    assert (finding.rule.id, finding.severity.value, finding.path, finding.start_line) == (
        "PYSEC-2019-217",
        "high",
        "requirements.txt",
        2,  # the pin's line in the requirements file
    )
    assert finding.message == "jinja2 2.10 is affected by PYSEC-2019-217; fixed in 2.10.1"
    assert finding.snippet == "jinja2==2.10"  # the fingerprint follows the pin, not the line
    assert finding.rule.description == "Jinja2 sandbox escape via str.format_map."


def test_runs_without_pip_and_without_dependencies(fake_tool: FakeTool) -> None:
    replay(fake_tool, CASE)
    [call] = fake_tool.calls("pip-audit")
    assert call["argv"][:4] == ["-r", "requirements.txt", "--no-deps", "--disable-pip"]


def test_empty_or_garbled_output_is_a_crash(fake_tool: FakeTool) -> None:
    """pip-audit crashes with a traceback and exit 1 (its "found" code) when the OSV service
    cannot be resolved: empty output must be a crash, not a clean result."""
    assert crash_message(fake_tool, CASE, "", exit_code=1) == (
        "'pip-audit' did not produce JSON (Expecting value): empty output"
    )
    assert "exited with 2" in crash_message(fake_tool, CASE, "", exit_code=2)


def test_live_run_audits_or_says_it_could_not() -> None:
    require_tools(CASE.tool)
    scanner = CASE.make()
    findings = scanner.scan(CASE.root, CASE.paths())
    if findings:  # the service was reachable: jinja2 2.10 has published advisories
        assert {(f.path, f.start_line) for f in findings} == {("requirements.txt", 2)}
    else:
        [note] = scanner.notes()
        assert "could not audit 1 package(s)" in note.message
