"""What the per-scanner tests share: the findings model, the inputs each tool was captured
on, and a fake tool that replays a captured output through the scanner's real ``scan()``.

The scanners run their tool through ``shiprail._subprocess``, which looks tools up in
``SHIPRAIL_TOOLS_BIN`` first. A fake tool placed there replays the output the real tool
printed once (``data/<tool>.json``, made by ``capture.py``), so the parsing is tested through
the same interface, arguments and exit-code handling as a real run, without the tool.

Captured outputs name the scanned root ``@ROOT@`` and an absolute argument ``@ARG<n>@`` (the
n-th argument of the call, e.g. the temporary tree gitleaks scans); the fake tool puts the
real values back, so paths resolve exactly as they did for the real tool.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from shiprail.errors import ToolCrashed

# The findings model, imported here only, so a move of the model is one line to change.
from shiprail.findings import Category, Finding, Rule, Severity
from shiprail.scan.scanners.interface import Scanner, ScanNote

from conftest import require_tools

__all__ = [
    "CASES",
    "CORPUS",
    "DATA",
    "REPO",
    "Capture",
    "Category",
    "FakeTool",
    "Finding",
    "Rule",
    "ScanNote",
    "Scanner",
    "Severity",
    "crash_message",
    "essentials",
    "live",
    "load_fixture",
    "replay",
]

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
INPUT = DATA / "input"
CORPUS = HERE.parent / "corpus" / "insecure"
REPO = HERE.parents[3]
ROOT_MARK = "@ROOT@"


@dataclass(frozen=True)
class Capture:
    """One captured run: the scanner, the root it ran in and the files it was given."""

    tool: str  # the executable, as the scanner runs it
    fixture: str  # file name under data/
    make: Callable[[], Scanner]
    root: Path
    files: tuple[str, ...]

    def paths(self) -> list[Path]:
        return [Path(f) for f in self.files]

    def scan(self) -> list[Finding]:
        return self.make().scan(self.root, self.paths())


def _semgrep() -> Scanner:
    from shiprail.scan.scanners.semgrep import SemgrepScanner

    return SemgrepScanner(REPO / "policies" / "semgrep")


def _scanner(module: str, cls: str) -> Callable[[], Scanner]:
    def make() -> Scanner:
        mod = __import__(f"shiprail.scan.scanners.{module}", fromlist=[cls])
        scanner: Scanner = getattr(mod, cls)()
        return scanner

    return make


_PY = ("app/cache.py", "app/client.py", "app/db.py", "app/run.py")

#: The inputs every fixture was captured on (``capture.py``) and every live run uses.
CASES: dict[str, Capture] = {
    "bandit": Capture("bandit", "bandit.json", _scanner("bandit", "BanditScanner"), CORPUS, _PY),
    "semgrep": Capture(
        "semgrep",
        "semgrep.json",
        _semgrep,
        CORPUS,
        (*_PY, "Dockerfile", "docker-compose.yml", "compose/stack.yaml"),
    ),
    "detect-secrets": Capture(
        "detect-secrets",
        "detect_secrets.json",
        _scanner("detect_secrets", "DetectSecretsScanner"),
        CORPUS,
        ("app/settings.py", "keys/deploy_key.pem", "app/cache.py"),
    ),
    "gitleaks": Capture(
        "gitleaks",
        "gitleaks.json",
        _scanner("gitleaks", "GitleaksScanner"),
        CORPUS,
        ("app/settings.py", "keys/deploy_key.pem", "app/cache.py"),
    ),
    "checkov": Capture(
        "checkov",
        "checkov.json",
        _scanner("checkov", "CheckovScanner"),
        CORPUS,
        (".github/workflows/pr.yml", "Dockerfile", "k8s/pod.yaml", "terraform/main.tf"),
    ),
    "checkov-skips": Capture(
        "checkov",
        "checkov_skips.json",
        _scanner("checkov", "CheckovScanner"),
        INPUT / "checkov",
        ("main.tf",),
    ),
    "hadolint": Capture(
        "hadolint",
        "hadolint.json",
        _scanner("hadolint", "HadolintScanner"),
        INPUT / "hadolint",
        ("Dockerfile",),
    ),
    "shellcheck": Capture(
        "shellcheck",
        "shellcheck.json",
        _scanner("shellcheck", "ShellcheckScanner"),
        INPUT / "shellcheck",
        ("cleanup.sh",),
    ),
    "actionlint": Capture(
        "actionlint",
        "actionlint.json",
        _scanner("actionlint", "ActionlintScanner"),
        INPUT / "actionlint",
        (".github/workflows/release.yml",),
    ),
    "pip-audit": Capture(
        "pip-audit",
        "pip_audit.json",
        _scanner("pip_audit", "PipAuditScanner"),
        CORPUS,
        ("requirements.txt",),
    ),
}


def essentials(findings: list[Finding]) -> list[tuple[str, str, str, int]]:
    """What a user acts on, sorted: rule id, severity, repo-relative path, 1-based line."""
    return sorted((f.rule.id, f.severity.value, f.path, f.start_line) for f in findings)


def load_fixture(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


_FAKE = """#!{python}
import json, os, sys
spec = json.load(open({spec!r}))
with open(spec["calls"], "a") as log:
    log.write(json.dumps({{"argv": sys.argv[1:], "cwd": os.getcwd()}}) + "\\n")
text = spec["stdout"].replace({token!r}, os.getcwd())
for number, arg in enumerate(sys.argv[1:], start=1):
    text = text.replace("@ARG%d@" % number, arg)
sys.stdout.write(text)
sys.stderr.write(spec["stderr"])
sys.exit(spec["exit_code"])
"""


class FakeTool:
    """Executables in a private ``SHIPRAIL_TOOLS_BIN`` that replay a given output."""

    def __init__(self, bin_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.bin_dir = bin_dir
        bin_dir.mkdir(parents=True, exist_ok=True)
        monkeypatch.setenv("SHIPRAIL_TOOLS_BIN", str(bin_dir))

    def replay(self, name: str, stdout: str, *, exit_code: int = 0, stderr: str = "") -> None:
        """``name`` prints ``stdout`` (tokens filled in) and exits with ``exit_code``."""
        spec = self.bin_dir / f"{name}.spec.json"
        spec.write_text(
            json.dumps(
                {
                    "stdout": stdout,
                    "stderr": stderr,
                    "exit_code": exit_code,
                    "calls": str(self.bin_dir / f"{name}.calls"),
                }
            )
        )
        script = self.bin_dir / name
        script.write_text(_FAKE.format(python=sys.executable, spec=str(spec), token=ROOT_MARK))
        script.chmod(0o755)

    def replay_fixture(self, case: Capture, *, exit_code: int = 0) -> None:
        self.replay(
            case.tool, (DATA / case.fixture).read_text(encoding="utf-8"), exit_code=exit_code
        )

    def calls(self, name: str) -> list[dict[str, Any]]:
        """Every call of ``name``: its arguments and working directory."""
        log = self.bin_dir / f"{name}.calls"
        if not log.is_file():
            return []
        return [json.loads(line) for line in log.read_text().splitlines()]


def replay(fake: FakeTool, case: Capture, *, exit_code: int = 0) -> list[Finding]:
    """The findings the scanner makes of its tool's captured output."""
    fake.replay_fixture(case, exit_code=exit_code)
    return case.scan()


def crash_message(fake: FakeTool, case: Capture, stdout: str, *, exit_code: int = 0) -> str:
    """The ToolCrashed message the scanner gives when its tool prints ``stdout``."""
    fake.replay(case.tool, stdout, exit_code=exit_code, stderr="boom: the tool failed\n")
    with pytest.raises(ToolCrashed) as caught:
        case.scan()
    return caught.value.message


def live(case: Capture) -> list[Finding]:
    """A run of the real tool on the case's input (skipped on a laptop without it)."""
    require_tools(case.tool)
    return case.scan()
