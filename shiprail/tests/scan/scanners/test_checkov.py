"""checkov: its JSON report (one per framework), captured once on the corpus' Terraform,
Kubernetes, Dockerfile and workflow samples (``data/checkov.json``) and on a purpose-made
file with suppressions (``data/checkov_skips.json``), made into findings; one live run."""

from __future__ import annotations

from collections import Counter

from ._support import CASES, Category, FakeTool, crash_message, essentials, live, replay

CASE = CASES["checkov"]
SKIPS = CASES["checkov-skips"]

#: The findings a user acts on first (the corpus also yields low/medium hygiene checks).
BLOCKING = [
    ("CKV2_AWS_6", "high", "terraform/main.tf", 2),
    ("CKV_AWS_20", "critical", "terraform/main.tf", 2),
    ("CKV_AWS_24", "high", "terraform/main.tf", 11),
    ("CKV_DOCKER_3", "high", "Dockerfile", 1),
    ("CKV_GHA_2", "high", ".github/workflows/pr.yml", 11),
    ("CKV_K8S_16", "high", "k8s/pod.yaml", 2),
]
SKIPS_EXPECTED = [
    ("CKV2_AWS_5", "medium", "main.tf", 8),
    ("CKV2_AWS_61", "low", "main.tf", 3),
    ("CKV2_AWS_62", "low", "main.tf", 3),
    ("CKV2_AWS_6", "high", "main.tf", 3),
    ("CKV_AWS_144", "low", "main.tf", 3),
    ("CKV_AWS_145", "medium", "main.tf", 3),
    ("CKV_AWS_18", "low", "main.tf", 3),
    ("CKV_AWS_21", "low", "main.tf", 3),
    ("CKV_AWS_24", "high", "main.tf", 8),
]


def _blocking(findings: list) -> list:
    return [e for e in essentials(findings) if e[1] in {"high", "critical"}]


def test_captured_report_becomes_findings(fake_tool: FakeTool) -> None:
    findings = replay(fake_tool, CASE, exit_code=1)  # checkov exits 1 on failed checks
    assert _blocking(findings) == BLOCKING
    assert len(findings) == 35
    assert Counter(f.category for f in findings) == {
        Category.iac: 30,  # Terraform and Kubernetes
        Category.container: 3,
        Category.workflow: 2,
    }
    bucket = next(f for f in findings if f.rule.id == "CKV_AWS_20")
    assert bucket.message == (
        "S3 Bucket has an ACL defined which allows public READ access. [aws_s3_bucket.uploads]"
    )
    assert (bucket.start_line, bucket.end_line) == (2, 4)
    assert bucket.properties == {"resource": "aws_s3_bucket.uploads"}


def test_line_zero_becomes_line_one(fake_tool: FakeTool) -> None:
    """checkov reports some workflow checks on lines 0-1; SARIF lines start at 1."""
    findings = replay(fake_tool, CASE, exit_code=1)
    permissions = next(f for f in findings if f.rule.id == "CKV2_GHA_1")
    assert (permissions.path, permissions.start_line) == (".github/workflows/pr.yml", 1)


def test_a_skip_with_a_reason_is_kept_for_the_gate_a_bare_one_stays_open(
    fake_tool: FakeTool,
) -> None:
    findings = replay(fake_tool, SKIPS, exit_code=1)
    assert essentials(findings) == sorted(SKIPS_EXPECTED)
    by_rule = {f.rule.id: f for f in findings}
    assert by_rule["CKV_AWS_18"].properties["suppression"] == (
        "checkov:skip - access logs of the static website bucket are not needed"
    )
    bare = by_rule["CKV_AWS_24"]
    assert "suppression" not in bare.properties
    assert bare.message.endswith(
        "(a checkov:skip without a reason does not count) [aws_security_group.jump]"
    )


def test_skipped_checks_reach_the_parser(fake_tool: FakeTool) -> None:
    """``--quiet`` drops skipped checks from checkov's report, which made a bare
    ``#checkov:skip`` silently hide its finding."""
    replay(fake_tool, SKIPS, exit_code=1)
    [call] = fake_tool.calls("checkov")
    assert "--quiet" not in call["argv"]
    assert call["argv"][:5] == ["--skip-download", "-o", "json", "--compact", "--framework"]


def test_no_findings_and_empty_output(fake_tool: FakeTool) -> None:
    fake_tool.replay("checkov", '{"check_type": "terraform", "results": {"failed_checks": []}}')
    assert CASE.scan() == []
    fake_tool.replay("checkov", "")
    assert CASE.scan() == []
    fake_tool.replay("checkov", "[]")  # nothing of a supported framework in the files
    assert CASE.scan() == []


def test_garbled_output_is_a_crash(fake_tool: FakeTool) -> None:
    message = crash_message(fake_tool, CASE, "Traceback (most recent call last):", exit_code=1)
    assert message.startswith("checkov printed invalid JSON")
    assert "exited with 2" in crash_message(fake_tool, CASE, "", exit_code=2)


def test_live_run_matches_the_capture() -> None:
    findings = live(CASE)
    assert _blocking(findings) == BLOCKING
    assert len(findings) == 35


def test_live_run_reports_skips() -> None:
    assert essentials(live(SKIPS)) == sorted(SKIPS_EXPECTED)
