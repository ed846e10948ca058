"""The real scanners over the insecure corpus: each sample is caught in the right file and
category; the clean sample passes. Also the CLI contract (exit codes 2 and 3, SARIF shape)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .scan_fakes import CORPUS
from conftest import require_tools

TOOLS = ("bandit", "semgrep", "detect-secrets", "gitleaks", "checkov", "hadolint", "actionlint")
CLI = [sys.executable, "-m", "shiprail.cli"]


def shiprail(args: list[str], tmp: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "SHIPRAIL_SCAN_CACHE": str(tmp / "cache"), **env}
    code = "import sys; from shiprail.cli import main; sys.argv[0] = 'shiprail'; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=full, timeout=900
    )


@pytest.fixture(scope="module")
def insecure(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    require_tools(*TOOLS)
    tmp = tmp_path_factory.mktemp("insecure")
    result = shiprail(
        [
            "scan",
            str(CORPUS / "insecure"),
            "--offline",
            "--format", "json", "--output", str(tmp / "scan.json"),
            "--format", "sarif", "--output", str(tmp / "scan.sarif"),
            "--format", "junit", "--output", str(tmp / "scan.xml"),
            "--format", "markdown", "--output", str(tmp / "scan.md"),
            "--format", "html", "--output", str(tmp / "scan.html"),
        ],
        tmp,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    return {
        "stderr": result.stderr,
        "json": json.loads((tmp / "scan.json").read_text()),
        "sarif": json.loads((tmp / "scan.sarif").read_text()),
        "tmp": tmp,
    }


CASES = [
    # (file, category, tool, rule)
    ("app/settings.py", "secrets", "gitleaks", "gitleaks.aws-access-token"),
    ("app/settings.py", "secrets", "detect-secrets", "detect-secrets.aws-access-key"),
    ("keys/deploy_key.pem", "secrets", "gitleaks", "gitleaks.private-key"),
    ("keys/deploy_key.pem", "secrets", "detect-secrets", "detect-secrets.private-key"),
    ("app/db.py", "sast", "semgrep", "shiprail-sql-string-formatting"),
    ("app/run.py", "sast", "semgrep", "shiprail-subprocess-shell-true"),
    ("app/run.py", "sast", "bandit", "B602"),
    ("app/cache.py", "sast", "semgrep", "shiprail-unsafe-deserialization"),
    ("app/client.py", "sast", "semgrep", "shiprail-tls-verification-disabled"),
    ("app/client.py", "sast", "bandit", "B501"),
    ("Dockerfile", "container", "checkov", "CKV_DOCKER_3"),
    ("Dockerfile", "container", "hadolint", "DL3007"),
    ("Dockerfile", "container", "semgrep", "shiprail-dockerfile-curl-pipe-shell"),
    ("terraform/main.tf", "iac", "checkov", "CKV_AWS_20"),
    ("terraform/main.tf", "iac", "checkov", "CKV_AWS_24"),
    ("k8s/pod.yaml", "iac", "checkov", "CKV_K8S_16"),
    ("k8s/pod.yaml", "iac", "semgrep", "shiprail-k8s-hostpath"),
    (".github/workflows/pr.yml", "workflow", "actionlint", "untrusted-input"),
    ("docker-compose.yml", "iac", "semgrep", "shiprail-compose-docker-socket"),
    ("compose/stack.yaml", "iac", "semgrep", "shiprail-compose-docker-socket"),
    ("compose/stack.yaml", "iac", "semgrep", "shiprail-compose-privileged"),
    ("requirements.txt", "dependencies", "osv", "PYSEC-2021-66"),
]


@pytest.mark.parametrize(("path", "category", "tool", "rule"), CASES)
def test_insecure_sample_is_caught(
    insecure: dict[str, Any], path: str, category: str, tool: str, rule: str
) -> None:
    found = [
        f
        for f in insecure["json"]["findings"]
        if f["path"] == path and f["tool"] == tool and f["rule"] == rule
    ]
    assert found, f"{tool}/{rule} not reported for {path}"
    assert found[0]["category"] == category
    assert found[0]["line"] >= 1


def test_compose_files_are_caught_by_our_rules_not_checkov(insecure: dict[str, Any]) -> None:
    """checkov has no compose framework offline; our Semgrep rules cover compose files: the
    socket in the short, flow-list and long (``source: /run/docker.sock``) forms."""
    compose = [f for f in insecure["json"]["findings"] if "compose" in f["path"]]
    assert not [f for f in compose if f["tool"] == "checkov"]
    sockets = sorted(
        (f["path"], f["line"])
        for f in compose
        if f["rule"] == "shiprail-compose-docker-socket" and f["blocking"]
    )
    assert sockets == [
        ("compose/stack.yaml", 9),
        ("compose/stack.yaml", 13),
        ("docker-compose.yml", 6),
    ]
    assert all(f["severity"] == "critical" for f in compose if "socket" in f["rule"])


def test_every_blocking_sample_blocks(insecure: dict[str, Any]) -> None:
    blocking = {f["path"] for f in insecure["json"]["findings"] if f["blocking"]}
    expected = {path for path, *_ in CASES}
    assert expected <= blocking
    assert "gate: FAILED" in insecure["stderr"]


def test_sarif_is_what_code_scanning_accepts(insecure: dict[str, Any]) -> None:
    sarif = insecure["sarif"]
    assert sarif["version"] == "2.1.0"
    tools = [run["tool"]["driver"]["name"] for run in sarif["runs"]]
    assert len(tools) == len(set(tools))  # one run per tool
    results = 0
    for run in sarif["runs"]:
        rules = {r["id"] for r in run["tool"]["driver"]["rules"]}
        for rule in run["tool"]["driver"]["rules"]:
            assert rule["shortDescription"]["text"] and rule["help"]["text"]
        for result in run["results"]:
            results += 1
            assert result["ruleId"] in rules
            loc = result["locations"][0]["physicalLocation"]
            assert not loc["artifactLocation"]["uri"].startswith("/")
            assert loc["region"]["startLine"] >= 1
            assert float(result["properties"]["security-severity"]) > 0
            assert result["partialFingerprints"]["shiprail/v1"]
    assert results == len(insecure["json"]["findings"])
    # secrets never reach the report
    text = json.dumps(sarif) + json.dumps(insecure["json"])
    assert "FAKEKEY4TESTX" not in text and "MIIEFAKEKEY" not in text


def test_other_reports(insecure: dict[str, Any]) -> None:
    tmp = insecure["tmp"]
    junit = (tmp / "scan.xml").read_text()
    assert "<testsuites" in junit and "<failure" in junit
    assert "## shiprail security gate" in (tmp / "scan.md").read_text()
    html = (tmp / "scan.html").read_text()
    assert "f-sev" in html and "<table" in html
    assert "snapshot of 2024-10-10" in insecure["stderr"]  # the OSV source and date


def test_clean_sample_passes(tmp_path: Path) -> None:
    require_tools(*TOOLS, "shellcheck")
    result = shiprail(
        ["scan", str(CORPUS / "clean"), "--offline", "--format", "json", "--output", "-"],
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["passed"] and not [f for f in report["findings"] if f["blocking"]]
    ran = {s["name"] for s in report["scanners"] if s["status"] == "ran"}
    assert {"bandit", "semgrep", "osv", "hadolint", "shellcheck"} <= ran


def test_bad_config_is_exit_2_with_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "shiprail.yaml").write_text("version: 1\nscan:\n  threshold: severe\n")
    result = shiprail(["scan", str(tmp_path)], tmp_path)
    assert result.returncode == 2
    assert "shiprail.yaml:3" in result.stderr and "threshold" in result.stderr
    assert "Traceback" not in result.stderr


def test_ignore_without_reason_is_exit_2(tmp_path: Path) -> None:
    (tmp_path / "shiprail.yaml").write_text("scan:\n  ignore:\n    - path: vendor/**\n")
    result = shiprail(["scan", str(tmp_path)], tmp_path)
    assert result.returncode == 2 and "reason" in result.stderr


def test_missing_scanner_is_exit_3_with_install_command(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("print('hello')\n")
    result = shiprail(
        ["scan", str(tmp_path), "--only", "bandit", "--reports-dir", str(tmp_path / "r")],
        tmp_path,
        SHIPRAIL_TOOLS_BIN=str(tmp_path / "nobin"),
        SHIPRAIL_HOME=str(tmp_path),  # hide the pinned tools of this checkout
        SHIPRAIL_ROOT=str(tmp_path),  # and of the repository around the working directory
        PATH="/usr/bin:/bin",
    )
    assert result.returncode == 3, result.stderr
    assert "bandit" in result.stderr and "install-tools.sh bandit" in result.stderr


def test_skip_removes_a_missing_scanner_and_says_so(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("print('hello')\n")
    result = shiprail(
        ["scan", str(tmp_path), "--only", "bandit", "--skip", "bandit", "--format", "json"],
        tmp_path,
        SHIPRAIL_TOOLS_BIN=str(tmp_path / "nobin"),
        PATH="/usr/bin:/bin",
    )
    assert result.returncode == 0, result.stderr
    status = {s["name"]: s for s in json.loads(result.stdout)["scanners"]}
    assert status["bandit"]["status"] == "skipped" and "--skip" in status["bandit"]["reason"]


def test_unknown_scanner_name_is_exit_2(tmp_path: Path) -> None:
    result = shiprail(["scan", str(tmp_path), "--only", "nosuchtool"], tmp_path)
    assert result.returncode == 2 and "unknown scanner" in result.stderr
