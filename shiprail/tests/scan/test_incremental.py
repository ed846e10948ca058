"""The incremental scan is the cold scan: after files are changed, added, renamed and
deleted, a scan that reuses the per-file cache reports exactly what a scan with no cache
reports, finding for finding (fingerprints included), with the real scanners."""

from __future__ import annotations

import json
import secrets
import string
from pathlib import Path

from shiprail.scan.runner import ScanOutcome, run_scan
from shiprail.scan.settings import ScanConfig, ScanSettings

from conftest import require_tools

REPO = Path(__file__).resolve().parents[3]
TOOLS = ("bandit", "semgrep", "detect-secrets", "gitleaks", "hadolint", "shellcheck")
PER_FILE = (*TOOLS, "actionlint")


def aws_key() -> str:
    """A key-shaped value made at run time (no secret-looking literal in the repository)."""
    alphabet = string.ascii_uppercase + "234567"
    return "AKIA" + "".join(secrets.choice(alphabet) for _ in range(16))


def write(root: Path, name: str, text: str) -> None:
    (root / name).parent.mkdir(parents=True, exist_ok=True)
    (root / name).write_text(text)


def seed(root: Path) -> None:
    write(
        root,
        "app/run.py",
        "import subprocess\n\n\ndef go(cmd):\n    return subprocess.call(cmd, shell=True)\n",
    )
    write(root, "app/calc.py", "def calc(text):\n    return eval(text)\n")
    write(root, "app/clean.py", "def add(a, b):\n    return a + b\n")
    write(root, "app/keys.py", f'AWS_ACCESS_KEY_ID = "{aws_key()}"\n')
    write(root, "app/Dockerfile", "FROM debian:latest\nRUN apt-get update\n")
    write(root, "scripts/go.sh", "#!/bin/sh\ncd $1\nrm -rf tmp\n")
    write(
        root,
        ".github/workflows/ci.yml",
        "on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - run: echo ${{ github.event.issue.title }}\n",
    )


def change(root: Path) -> None:
    """Change, add, rename and delete files (findings appear, move and disappear)."""
    write(
        root,
        "app/calc.py",
        "\n\ndef calc(text):\n    return eval(text)  # moved\n"
        "\n\ndef load(blob):\n    import pickle\n\n    return pickle.loads(blob)\n",
    )
    write(root, "app/new.py", f'TOKEN = "{aws_key()}"\nimport os\nos.system("ls " + TOKEN)\n')
    (root / "app/run.py").rename(root / "app/runner.py")
    (root / "app/keys.py").unlink()
    write(root, "scripts/go.sh", '#!/bin/sh\nset -u\ncd "$1"\nrm -rf tmp\n')


def scan(root: Path, cache: Path, *, use_cache: bool) -> ScanOutcome:
    config = ScanConfig.model_validate({"cache_dir": str(cache), "offline": True})
    settings = ScanSettings(
        root=root,
        config=config,
        home=REPO,
        only=PER_FILE,
        use_cache=use_cache,
    )
    return run_scan(settings)


def findings(outcome: ScanOutcome) -> list[tuple[object, ...]]:
    return sorted(
        (
            i.fingerprint,
            i.finding.tool,
            i.finding.rule.id,
            i.finding.path,
            i.finding.start_line,
            i.finding.end_line,
            i.finding.severity.value,
            i.finding.message,
            i.state,
        )
        for i in outcome.decision.items
    )


def test_incremental_scan_equals_a_cold_scan(tmp_path: Path) -> None:
    require_tools(*TOOLS, "actionlint")
    root, cache = tmp_path / "tree", tmp_path / "cache"
    seed(root)
    first = scan(root, cache, use_cache=True)
    assert {r.name: r.status for r in first.runs if r.name in TOOLS} == dict.fromkeys(TOOLS, "ran")

    change(root)
    incremental = scan(root, cache, use_cache=True)
    cold = scan(root, tmp_path / "cold-2", use_cache=False)
    assert findings(incremental) == findings(cold)
    tools = {f[1] for f in findings(cold)}
    assert {"bandit", "semgrep", "gitleaks", "shellcheck"} <= tools
    # only the changed, added and renamed files were read again
    bandit = next(r for r in incremental.runs if r.name == "bandit")
    assert (bandit.files, bandit.scanned) == (4, 3)
    hadolint = next(r for r in incremental.runs if r.name == "hadolint")
    assert (hadolint.status, hadolint.scanned) == ("cached", 0)
    assert not [r for r in incremental.runs if r.failed]


def test_a_corrupted_or_foreign_cache_entry_is_not_trusted(tmp_path: Path) -> None:
    require_tools("bandit")
    root, cache = tmp_path / "tree", tmp_path / "cache"
    seed(root)
    config = ScanConfig.model_validate({"cache_dir": str(cache), "offline": True})
    settings = ScanSettings(root=root, config=config, home=REPO, only=("bandit",))
    first = run_scan(settings)
    stored = cache / "results" / "files" / "bandit.json"
    text = stored.read_text()
    # an entry copied from another file (the calc.py result claimed for clean.py)
    data = json.loads(text)
    data["entries"]["app/clean.py"]["findings"] = data["entries"]["app/calc.py"]["findings"]
    stored.write_text(json.dumps(data))
    again = run_scan(settings)
    assert findings(again) == findings(first)
    bandit = again.runs[0]
    assert bandit.scanned == 1  # clean.py was scanned again, the others were trusted
    stored.write_text(text[: len(text) // 2])  # truncated
    again = run_scan(settings)
    assert findings(again) == findings(first)
    assert again.runs[0].scanned == 4
