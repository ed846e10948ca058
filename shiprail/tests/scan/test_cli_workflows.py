"""The scan workflows a team relies on, through the real CLI and the real scanners in small
temporary git repositories: --changed-since, baselines written and read by the CLI, secrets
in git history, several report formats in one run (and the default reports/ directory), and
waivers that expire, warn or match nothing.

bandit and gitleaks are the scanners used (``--only``): they are the fastest, so the whole
file stays well under a minute on two cores.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET  # nosec B405 - parses reports this test just wrote
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from conftest import require_tools

# Secrets are assembled at run time so this file never holds one (the repository's own gate
# scans it).
AWS_KEY = "AKIA" + "Z7QK4LMN" + "PRSTUVWX"
GITHUB_TOKEN = "ghp_" + "8f3Kq9ZxV2mN7bL4" + "tR6yW1cD5hJ0sA3eGuPi"

SHELL_CALL = "    return subprocess.call(cmd, shell=True)\n"
INSECURE_PY = f"import subprocess\n\n\ndef run(cmd):\n{SHELL_CALL}"
CLEAN_PY = "def add(a, b):\n    return a + b\n"


def shiprail(args: list[str], tmp: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """``shiprail ARGS`` in a child process, as a user or CI runs it."""
    inherited = {k: v for k, v in os.environ.items() if k != "SHIPRAIL_GIT_HISTORY"}
    full = {**inherited, "SHIPRAIL_SCAN_CACHE": str(tmp / "scan-cache"), **env}
    code = "import sys; from shiprail.cli import main; sys.argv[0] = 'shiprail'; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=full, timeout=600
    )


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(
        [
            "git",
            "-C",
            str(repo),
            "-c",
            "user.name=Test",
            "-c",
            "user.email=test@example.invalid",
            "-c",
            "commit.gpgsign=false",
            *args,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return result.stdout.strip()


def new_repo(path: Path, files: dict[str, str]) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q")
    write(path, files)
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "base")
    return path


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def json_report(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert result.stdout, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


# -- --changed-since ------------------------------------------------------------------------


def test_changed_since_scans_only_files_changed_since_the_ref(tmp_path: Path) -> None:
    require_tools("bandit")
    repo = new_repo(tmp_path / "repo", {"clean.py": CLEAN_PY, "legacy.py": INSECURE_PY})
    git(repo, "tag", "base")
    write(repo, {"committed.py": INSECURE_PY})
    git(repo, "add", "committed.py")
    git(repo, "commit", "-q", "-m", "add committed.py")
    write(repo, {"untracked.py": INSECURE_PY})

    result = shiprail(
        ["scan", str(repo), "--only", "bandit", "--changed-since", "base", "--format", "json"],
        tmp_path,
    )
    assert result.returncode == 1, result.stderr  # the new files hold blocking findings
    report = json_report(result)
    assert report["files"] == 2
    bandit = next(s for s in report["scanners"] if s["name"] == "bandit")
    assert bandit["status"] == "ran" and bandit["files"] == 2
    paths = {f["path"] for f in report["findings"]}
    assert paths == {"committed.py", "untracked.py"}  # legacy.py predates the ref
    assert {f["rule"] for f in report["findings"] if f["blocking"]} == {"B602"}

    # nothing changed since HEAD but the untracked file: only it is scanned
    result = shiprail(
        ["scan", str(repo), "--only", "bandit", "--changed-since", "HEAD", "--format", "json"],
        tmp_path,
    )
    report = json_report(result)
    assert report["files"] == 1
    assert {f["path"] for f in report["findings"]} == {"untracked.py"}


def test_changed_since_a_bad_ref_is_a_usage_error(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "repo", {"clean.py": CLEAN_PY})
    result = shiprail(
        [
            "scan",
            str(repo),
            "--only",
            "bandit",
            "--changed-since",
            "no-such-ref",
            "--format",
            "json",
        ],
        tmp_path,
    )
    assert result.returncode == 2, result.stderr
    assert "'no-such-ref' is not a git revision" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""

    plain = tmp_path / "not-a-repo"
    plain.mkdir()
    result = shiprail(["scan", str(plain), "--changed-since", "HEAD", "--format", "json"], tmp_path)
    assert result.returncode == 2 and "needs a git repository" in result.stderr


# -- baselines ------------------------------------------------------------------------------


def test_baseline_written_then_read_by_the_cli(tmp_path: Path) -> None:
    require_tools("bandit")
    repo = new_repo(tmp_path / "repo", {"app.py": INSECURE_PY})
    base = tmp_path / "baseline.json"
    scan = ["scan", str(repo), "--only", "bandit", "--format", "json"]

    first = shiprail([*scan, "--write-baseline", str(base)], tmp_path)
    assert first.returncode == 0, first.stderr
    assert "baseline of" in first.stderr
    recorded = json.loads(base.read_text())["findings"]
    first_prints = {f["fingerprint"] for f in json_report(first)["findings"]}
    assert {e["fingerprint"] for e in recorded} == first_prints
    assert any(e["rule"] == "B602" and e["path"] == "app.py" for e in recorded)

    # without the baseline the same tree fails; with it, it passes with the same findings
    assert shiprail(scan, tmp_path).returncode == 1
    held = shiprail([*scan, "--baseline", str(base)], tmp_path)
    assert held.returncode == 0, held.stderr
    report = json_report(held)
    assert {f["fingerprint"] for f in report["findings"]} == first_prints
    assert {f["state"] for f in report["findings"]} == {"baselined"}

    # lines inserted above the findings: same fingerprints, new line numbers, still passes
    write(repo, {"app.py": '"""Runs commands."""\n# one\n# two\n\n' + INSECURE_PY})
    moved = shiprail([*scan, "--baseline", str(base)], tmp_path)
    assert moved.returncode == 0, moved.stderr
    report = json_report(moved)
    assert {f["fingerprint"] for f in report["findings"]} == first_prints
    b602 = next(f for f in report["findings"] if f["rule"] == "B602")
    assert b602["line"] == 9 and b602["state"] == "baselined"

    # a new blocking finding is not in the baseline: the gate fails on it alone
    write(
        repo,
        {"app.py": (repo / "app.py").read_text() + "\n\ndef run_all(cmds):\n"
         "    return subprocess.check_output(cmds, shell=True)\n"},
    )  # fmt: skip
    grown = shiprail([*scan, "--baseline", str(base)], tmp_path)
    assert grown.returncode == 1, grown.stderr
    blocking = [f for f in json_report(grown)["findings"] if f["blocking"]]
    assert [(f["rule"], f["line"]) for f in blocking] == [("B602", 13)]
    assert blocking[0]["fingerprint"] not in first_prints


def test_a_missing_baseline_is_a_configuration_error(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "repo", {"clean.py": CLEAN_PY})
    result = shiprail(
        ["scan", str(repo), "--only", "bandit", "--baseline", str(tmp_path / "none.json")],
        tmp_path,
    )
    assert result.returncode == 2 and "baseline file not found" in result.stderr


# -- secrets in git history -----------------------------------------------------------------


def _repo_with_deleted_secret(tmp_path: Path) -> tuple[Path, str]:
    repo = new_repo(tmp_path / "repo", {"app.py": CLEAN_PY})
    write(repo, {"settings.py": f'AWS_KEY = "{AWS_KEY}"\nTOKEN = "{GITHUB_TOKEN}"\n'})
    git(repo, "add", "settings.py")
    git(repo, "commit", "-q", "-m", "add settings")
    leaked = git(repo, "rev-parse", "HEAD")
    git(repo, "rm", "-q", "settings.py")
    git(repo, "commit", "-q", "-m", "remove settings")
    return repo, leaked


def test_git_history_finds_a_deleted_secret_only_on_request(tmp_path: Path) -> None:
    require_tools("gitleaks")
    repo, leaked = _repo_with_deleted_secret(tmp_path)
    scan = ["scan", str(repo), "--only", "gitleaks"]

    tree_only = shiprail([*scan, "--format", "json"], tmp_path)
    assert tree_only.returncode == 0, tree_only.stderr
    assert json_report(tree_only)["findings"] == []

    out = tmp_path / "out"
    outputs = {fmt: out / f"scan.{ext}" for fmt, ext in FORMAT_FILES.items()}
    pairs = [
        arg for fmt, dest in outputs.items() for arg in ("--format", fmt, "--output", str(dest))
    ]
    history = shiprail([*scan, "--git-history", *pairs], tmp_path)
    assert history.returncode == 1, history.stderr
    report = json.loads(outputs["json"].read_text())
    rules = {f["rule"]: f for f in report["findings"]}
    assert {"gitleaks.aws-access-token", "gitleaks.github-pat"} <= set(rules)
    for finding in rules.values():
        assert finding["path"] == "settings.py" and finding["blocking"]
        assert finding["commit"] == leaked and leaked in finding["message"]
    sarif = json.loads(outputs["sarif"].read_text())
    commits = {r["properties"]["commit"] for run in sarif["runs"] for r in run["results"]}
    assert commits == {leaked}

    # the value itself is in no report and not on the terminal
    texts = [p.read_text() for p in outputs.values()] + [history.stdout, history.stderr]
    for text in texts:
        assert AWS_KEY not in text and GITHUB_TOKEN not in text
        assert AWS_KEY[4:] not in text and GITHUB_TOKEN[4:] not in text

    # the same request from shiprail.yaml (scan.git_history) and from the environment
    (repo / "shiprail.yaml").write_text("scan:\n  git_history: true\n")
    by_config = shiprail([*scan, "--format", "json"], tmp_path)
    assert by_config.returncode == 1
    (repo / "shiprail.yaml").unlink()
    by_env = shiprail([*scan, "--format", "json"], tmp_path, SHIPRAIL_GIT_HISTORY="1")
    assert by_env.returncode == 1
    assert {f["commit"] for f in json_report(by_env)["findings"]} == {leaked}


# -- several formats in one run, and the default reports/ directory ------------------------

FORMAT_FILES = {
    "sarif": "sarif",
    "json": "json",
    "junit": "junit.xml",
    "markdown": "md",
    "html": "html",
}

#: What GitHub code scanning needs of a SARIF 2.1.0 upload, as a JSON schema.
SARIF_GITHUB_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["$schema", "version", "runs"],
    "properties": {
        "$schema": {"type": "string", "pattern": "sarif-2\\.1\\.0"},
        "version": {"const": "2.1.0"},
        "runs": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["tool", "results"],
                "properties": {
                    "tool": {
                        "type": "object",
                        "required": ["driver"],
                        "properties": {
                            "driver": {
                                "type": "object",
                                "required": ["name", "rules"],
                                "properties": {
                                    "name": {"type": "string", "minLength": 1},
                                    "rules": {"type": "array", "items": {"$ref": "#/$defs/rule"}},
                                },
                            }
                        },
                    },
                    "results": {"type": "array", "items": {"$ref": "#/$defs/result"}},
                },
            },
        },
    },
    "$defs": {
        "text": {
            "type": "object",
            "required": ["text"],
            "properties": {"text": {"type": "string", "minLength": 1}},
        },
        "rule": {
            "type": "object",
            "required": ["id", "shortDescription", "help", "properties"],
            "properties": {
                "id": {"type": "string", "minLength": 1},
                "shortDescription": {"$ref": "#/$defs/text"},
                "fullDescription": {"$ref": "#/$defs/text"},
                "help": {"$ref": "#/$defs/text"},
                "helpUri": {"type": "string", "format": "uri"},
                "properties": {
                    "type": "object",
                    "required": ["security-severity"],
                    "properties": {
                        "security-severity": {"type": "string", "pattern": "^\\d+(\\.\\d+)?$"},
                        "tags": {"type": "array", "items": {"type": "string"}},
                    },
                },
            },
        },
        "result": {
            "type": "object",
            "required": ["ruleId", "message", "locations", "partialFingerprints", "level"],
            "properties": {
                "ruleId": {"type": "string", "minLength": 1},
                "ruleIndex": {"type": "integer", "minimum": 0},
                "level": {"enum": ["none", "note", "warning", "error"]},
                "message": {"$ref": "#/$defs/text"},
                "partialFingerprints": {
                    "type": "object",
                    "minProperties": 1,
                    "additionalProperties": {"type": "string", "minLength": 1},
                },
                "locations": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["physicalLocation"],
                        "properties": {
                            "physicalLocation": {
                                "type": "object",
                                "required": ["artifactLocation", "region"],
                                "properties": {
                                    "artifactLocation": {
                                        "type": "object",
                                        "required": ["uri"],
                                        "properties": {
                                            "uri": {"type": "string", "pattern": "^[^/]"}
                                        },
                                    },
                                    "region": {
                                        "type": "object",
                                        "required": ["startLine"],
                                        "properties": {"startLine": {"minimum": 1}},
                                    },
                                },
                            }
                        },
                    },
                },
            },
        },
    },
}


class _Resources(HTMLParser):
    """Collects every reference an HTML page would load (not plain links)."""

    def __init__(self) -> None:
        super().__init__()
        self.loaded: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        values = dict(attrs)
        if tag == "link":
            self.loaded.append(values.get("href") or "<link>")
        for attr in ("src", "data", "srcset", "poster"):
            if values.get(attr):
                self.loaded.append(str(values[attr]))


def check_reports(files: dict[str, Path], blocking: int) -> None:
    """Each report exists and is valid for what reads it."""
    sarif = json.loads(files["sarif"].read_text())
    jsonschema.validate(sarif, SARIF_GITHUB_SCHEMA)
    results = [r for run in sarif["runs"] for r in run["results"]]
    for run in sarif["runs"]:
        rule_ids = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
        assert len(rule_ids) == len(set(rule_ids))
        for result in run["results"]:
            assert rule_ids[result["ruleIndex"]] == result["ruleId"]

    report = json.loads(files["json"].read_text())
    assert len(results) == len(report["findings"]) > 0
    assert report["summary"]["blocking"] == blocking

    suites = ET.parse(files["junit"]).getroot()  # nosec B314 - our own report
    assert suites.tag == "testsuites"
    assert int(suites.get("failures", "0")) == blocking
    assert len(suites.findall(".//testcase/failure")) == blocking

    assert files["markdown"].read_text().startswith("## shiprail security gate")

    html = files["html"].read_text()
    parser = _Resources()
    parser.feed(html)
    assert parser.loaded == [], f"external resources: {parser.loaded}"
    assert "@import" not in html and "url(" not in html
    assert "table" in parser.tags and html.rstrip().endswith("</html>")


def test_several_formats_in_one_run(tmp_path: Path) -> None:
    require_tools("bandit", "gitleaks")
    repo = new_repo(
        tmp_path / "repo", {"app.py": INSECURE_PY, "settings.py": f'AWS_KEY = "{AWS_KEY}"\n'}
    )
    out = tmp_path / "out"
    files = {fmt: out / f"scan.{ext}" for fmt, ext in FORMAT_FILES.items()}
    pairs = [arg for fmt, dest in files.items() for arg in ("--format", fmt, "--output", str(dest))]
    result = shiprail(["scan", str(repo), "--only", "bandit,gitleaks", *pairs], tmp_path)
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""  # every report went to its file
    check_reports(files, blocking=2)  # B602 and the AWS key
    for fmt, dest in files.items():
        assert f"{fmt} report written to {dest}" in result.stderr
    for path in files.values():
        assert AWS_KEY not in path.read_text()

    # a --format without its --output is a usage error, not a guess
    result = shiprail(
        ["scan", str(repo), "--only", "bandit", "--format", "json", "--format", "sarif",
         "--output", str(out / "x.json")],
        tmp_path,
    )  # fmt: skip
    assert result.returncode == 2 and "one --output per --format" in result.stderr


def test_default_reports_directory(tmp_path: Path) -> None:
    require_tools("bandit", "gitleaks")
    repo = new_repo(
        tmp_path / "repo", {"app.py": INSECURE_PY, "settings.py": f'AWS_KEY = "{AWS_KEY}"\n'}
    )
    result = shiprail(["scan", str(repo), "--only", "bandit,gitleaks"], tmp_path)
    assert result.returncode == 1, result.stderr
    reports = repo / "reports"
    files = {fmt: reports / f"scan.{ext}" for fmt, ext in FORMAT_FILES.items()}
    assert sorted(p.name for p in reports.iterdir()) == sorted(p.name for p in files.values())
    check_reports(files, blocking=2)

    # the reports are never scanned themselves: a second run sees the same files
    again = shiprail(["scan", str(repo), "--only", "bandit,gitleaks"], tmp_path)
    assert again.returncode == 1
    second = json.loads(files["json"].read_text())
    assert second["files"] == 2
    assert all(not f["path"].startswith("reports/") for f in second["findings"])

    # --reports-dir moves them
    elsewhere = tmp_path / "elsewhere"
    moved = shiprail(
        ["scan", str(repo), "--only", "bandit,gitleaks", "--reports-dir", str(elsewhere)], tmp_path
    )
    assert moved.returncode == 1
    assert (elsewhere / "scan.sarif").is_file() and (elsewhere / "scan.html").is_file()


# -- waivers --------------------------------------------------------------------------------


def test_waivers_expired_expiring_and_unused_through_the_cli(tmp_path: Path) -> None:
    require_tools("gitleaks")
    key = f'AWS_KEY = "{AWS_KEY}"\n'
    repo = new_repo(tmp_path / "repo", {"a.py": key, "b.py": key, "c.py": key})
    today = dt.date.today()
    yesterday = (today - dt.timedelta(days=1)).isoformat()
    soon = (today + dt.timedelta(days=5)).isoformat()
    later = (today + dt.timedelta(days=90)).isoformat()
    write(
        repo,
        {
            ".shiprail/waivers.yaml": (
                "waivers:\n"
                f"  - rule: gitleaks.aws-access-token\n    path: a.py\n"
                f"    reason: rotated, removal due\n    owner: team-a\n    expires: {yesterday}\n"
                f"  - rule: gitleaks.aws-access-token\n    path: b.py\n"
                f"    reason: test account only\n    owner: team-b\n    expires: {soon}\n"
                f"  - rule: gitleaks.aws-access-token\n    path: c.py\n"
                f"    reason: sandbox account\n    owner: team-c\n    expires: {later}\n"
                f"  - rule: gitleaks.aws-access-token\n    path: gone/*.py\n"
                f"    reason: code since deleted\n    owner: team-d\n    expires: {later}\n"
            )
        },
    )
    result = shiprail(["scan", str(repo), "--only", "gitleaks", "--format", "json"], tmp_path)
    assert result.returncode == 1, result.stderr  # the expired waiver no longer applies
    report = json_report(result)
    by_path = {f["path"]: f for f in report["findings"]}
    assert by_path["a.py"]["state"] == "open" and by_path["a.py"]["blocking"]
    assert f"waiver expired on {yesterday}" in by_path["a.py"]["note"]
    assert by_path["b.py"]["state"] == "waived" and not by_path["b.py"]["blocking"]
    assert by_path["c.py"]["state"] == "waived"
    assert [f["path"] for f in report["findings"] if f["blocking"]] == ["a.py"]

    waivers = report["waivers"]
    assert [w["owner"] for w in waivers["expired"]] == ["team-a"]
    assert [(w["owner"], w["days_left"]) for w in waivers["expiring"]] == [("team-b", 5)]
    assert [w["owner"] for w in waivers["unused"]] == ["team-d"]

    err = result.stderr
    assert "waiver #1 expired, no longer applies" in err and "team-a" in err
    assert "waiver #2 expires in 5 day(s)" in err
    assert "waiver #4 matched nothing" in err
    assert "team-c" not in err  # a waiver far from expiry that is used says nothing


def test_an_invalid_waiver_file_names_file_and_line(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "repo", {"a.py": CLEAN_PY})
    write(
        repo,
        {
            ".shiprail/waivers.yaml": "waivers:\n  - rule: B602\n    reason: because\n"
            "    owner: team-x\n    expires: someday\n"
        },
    )
    result = shiprail(["scan", str(repo), "--only", "bandit", "--format", "json"], tmp_path)
    assert result.returncode == 2, result.stderr
    assert ".shiprail/waivers.yaml:" in result.stderr and "expires" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("days", "state"), [(-1, "expired"), (0, "expiring"), (14, "expiring"), (15, "active")]
)
def test_waiver_warning_window_is_14_days(days: int, state: str) -> None:
    from shiprail.scan.waivers import Waiver, status

    today = dt.date(2030, 6, 1)
    waiver = Waiver(rule="R", reason="why not", owner="own", expires=today + dt.timedelta(days))
    assert status([waiver], today)[0].state == state


def _commit_and_delete(repo: Path, name: str, text: str) -> str:
    """Commit ``name`` with ``text``, then delete it; return the commit that added it."""
    write(repo, {name: text})
    git(repo, "add", name)
    git(repo, "commit", "-q", "-m", f"add {name}")
    added = git(repo, "rev-parse", "HEAD")
    git(repo, "rm", "-q", name)
    git(repo, "commit", "-q", "-m", f"remove {name}")
    return added


def test_git_history_is_not_served_from_a_stale_cache(tmp_path: Path) -> None:
    """A secret committed then deleted leaves the working tree as it was: the cached result
    of the clean history must not be reused."""
    require_tools("gitleaks")
    repo = new_repo(tmp_path / "repo", {"app.py": CLEAN_PY})
    scan = ["scan", str(repo), "--only", "gitleaks", "--git-history", "--format", "json"]
    assert shiprail(scan, tmp_path).returncode == 0
    leaked = _commit_and_delete(repo, "creds.py", f'KEY = "{AWS_KEY}"\n')
    result = shiprail(scan, tmp_path)
    assert result.returncode == 1, result.stderr
    assert {f["commit"] for f in json_report(result)["findings"]} == {leaked}
    for cached in (tmp_path / "scan-cache").rglob("*"):
        if cached.is_file():
            assert AWS_KEY not in cached.read_text(errors="replace")


def test_git_history_since_a_ref_and_under_a_subdirectory(tmp_path: Path) -> None:
    require_tools("gitleaks")
    repo = new_repo(tmp_path / "repo", {"app.py": CLEAN_PY, "svc/main.py": CLEAN_PY})
    old = _commit_and_delete(repo, "old.py", f'KEY = "{AWS_KEY}"\n')
    git(repo, "tag", "release-1")
    new = _commit_and_delete(repo, "svc/token.py", f'TOKEN = "{GITHUB_TOKEN}"\n')

    everything = shiprail(
        ["scan", str(repo), "--only", "gitleaks", "--git-history", "--format", "json"], tmp_path
    )
    found = {(f["path"], f["commit"]) for f in json_report(everything)["findings"]}
    assert found == {("old.py", old), ("svc/token.py", new)}

    since = shiprail(
        ["scan", str(repo), "--only", "gitleaks", "--git-history", "--changed-since",
         "release-1", "--format", "json"],
        tmp_path,
    )  # fmt: skip
    assert since.returncode == 1, since.stderr
    assert {(f["path"], f["commit"]) for f in json_report(since)["findings"]} == {
        ("svc/token.py", new)
    }

    # a scan of svc/ reports history under svc/ only, with paths relative to it
    sub = shiprail(
        ["scan", str(repo / "svc"), "--only", "gitleaks", "--git-history", "--format", "json"],
        tmp_path,
    )
    assert {(f["path"], f["commit"]) for f in json_report(sub)["findings"]} == {("token.py", new)}


def test_git_history_outside_a_repository(tmp_path: Path) -> None:
    require_tools("gitleaks")
    plain = tmp_path / "plain"
    write(plain, {"app.py": CLEAN_PY})
    asked = shiprail(["scan", str(plain), "--only", "gitleaks", "--git-history"], tmp_path)
    assert asked.returncode == 2 and "--git-history needs a git repository" in asked.stderr

    write(plain, {"shiprail.yaml": "scan:\n  git_history: true\n"})
    configured = shiprail(["scan", str(plain), "--only", "gitleaks", "--format", "json"], tmp_path)
    assert configured.returncode == 0, configured.stderr
    assert "git history not scanned" in configured.stderr
