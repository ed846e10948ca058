"""detect-secrets: its JSON report, captured once (``data/detect_secrets.json``) on the
corpus' fake keys, made into findings; one live run on the same files. The report holds
only hashes of the (fake) values, and the findings never hold the values at all."""

from __future__ import annotations

from ._support import CASES, FakeTool, crash_message, essentials, live, load_fixture, replay

CASE = CASES["detect-secrets"]

EXPECTED = [
    ("detect-secrets.aws-access-key", "high", "app/settings.py", 3),
    ("detect-secrets.aws-access-key", "high", "app/settings.py", 4),
    ("detect-secrets.base64-high-entropy-string", "medium", "app/settings.py", 4),
    ("detect-secrets.private-key", "critical", "keys/deploy_key.pem", 1),
    ("detect-secrets.secret-keyword", "medium", "app/settings.py", 4),
]


def test_captured_report_becomes_findings(fake_tool: FakeTool) -> None:
    findings = replay(fake_tool, CASE)
    assert essentials(findings) == EXPECTED
    key = next(f for f in findings if f.rule.id == "detect-secrets.private-key")
    assert key.message == "possible private key (value not shown)"
    assert key.rule.name == "Private Key"
    assert key.snippet is None  # the engine keeps only a digest of the line


def test_findings_never_carry_the_secret(fake_tool: FakeTool) -> None:
    hashes = {
        item["hashed_secret"]
        for items in load_fixture(CASE.fixture)["results"].values()
        for item in items
    }
    text = repr(replay(fake_tool, CASE))
    assert "AKIA" not in text
    assert not [h for h in hashes if h in text]


def test_allowlist_comments_are_left_to_shiprail(fake_tool: FakeTool) -> None:
    replay(fake_tool, CASE)
    [call] = fake_tool.calls("detect-secrets")
    assert call["argv"][:6] == [
        "scan",
        "--all-files",
        "--no-verify",
        "--disable-filter",
        "detect_secrets.filters.allowlist.is_line_allowlisted",
        *CASE.files[:1],
    ]


def test_no_findings(fake_tool: FakeTool) -> None:
    fake_tool.replay("detect-secrets", '{"version": "1.5.0", "results": {}}')
    assert CASE.scan() == []


def test_empty_or_garbled_output_is_a_crash(fake_tool: FakeTool) -> None:
    assert crash_message(fake_tool, CASE, "") == (
        "'detect-secrets' did not produce JSON (Expecting value): empty output"
    )
    assert "exited with 1" in crash_message(fake_tool, CASE, "", exit_code=1)


def test_live_run_matches_the_capture() -> None:
    assert essentials(live(CASE)) == EXPECTED
