"""gitleaks: secrets in the working tree, and in git history when asked (``git_history``).

The working tree is scanned through a temporary tree of links to exactly the files in
scope, so ignored paths and untracked build output are never read. Secrets are redacted in
gitleaks' output and never reach our reports. ``--ignore-gitleaks-allow`` hands
``gitleaks:allow`` comments to shiprail, which accepts them only with a reason.

With ``--changed-since REF`` the history scan reads only the commits ``REF..HEAD``. A tree
that is not in a git repository has no history: the report says so in a note.

Severity: private keys critical, every other rule high (gitleaks rules match real
credential formats).
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shiprail import _subprocess
from shiprail.errors import ShiprailError
from shiprail.findings import Category, Finding, Rule, Severity
from shiprail.scan.scanners._util import load_json
from shiprail.scan.scanners.interface import Scanner, ScanNote

_GO_MOD = re.compile(r"^\s*mod\s+\S+\s+v?(\d+(?:\.\d+)+)", re.MULTILINE)

if TYPE_CHECKING:
    from shiprail.scan.settings import ScanSettings


def _relative(item: dict[str, Any], bases: tuple[Path, ...]) -> str:
    """The scanned file's repo-relative path (gitleaks reports links by their target)."""
    for key in ("SymlinkFile", "File"):
        raw = item.get(key)
        if not raw:
            continue
        for base in bases:
            try:
                return Path(raw).relative_to(base).as_posix()
            except ValueError:
                continue
    return str(item.get("File", ""))


def _git(root: Path, *args: str) -> str | None:
    """``git -C root ARGS`` output, None when ``root`` is not in a repository."""
    try:
        result = _subprocess.run(["git", "-C", str(root), *args], timeout=60, ok_codes=None)
    except ShiprailError:
        return None
    return result.stdout.strip() if result.returncode == 0 else None


class GitleaksScanner(Scanner):
    name = "gitleaks"
    category = Category.secrets
    binary = "gitleaks"
    min_version = "8.19"
    patterns = ("*",)
    severity_doc = "private-key critical; every other rule high"
    startup_seconds = 0.3
    seconds_per_mb = 0.45

    def __init__(
        self, history: bool = False, root: Path | None = None, since: str | None = None
    ) -> None:
        self.history = history
        # the working tree file by file; history is one unit keyed by the refs
        self.per_file = not history
        self.root = root
        self.since = since
        self._notes: list[ScanNote] = []

    @classmethod
    def from_settings(cls, settings: ScanSettings) -> Scanner:
        return cls(
            history=settings.config.git_history,
            root=settings.root,
            since=settings.changed_since,
        )

    def cache_key_extra(self) -> dict[str, Any]:
        extra: dict[str, Any] = {"history": self.history, "since": self.since}
        if self.history and self.root is not None:
            # history changes without the working tree changing (a secret committed, then
            # deleted): the commits every ref points at are part of the key
            extra["refs"] = _git(self.root, "for-each-ref", "--format=%(objectname) %(refname)")
            extra["head"] = _git(self.root, "rev-parse", "HEAD")
        return extra

    def notes(self) -> list[ScanNote]:
        return list(self._notes)

    def runs_without_files(self) -> bool:
        return self.history

    def version_command(self) -> list[str] | None:
        # builds from the Go module proxy print no version; the module version is embedded
        path = _subprocess.which(self.binary)
        if path and _subprocess.which("go"):
            return ["go", "version", "-m", path]
        return [self.binary, "version"]

    def parse_tool_version(self, output: str) -> str | None:
        match = _GO_MOD.search(output)
        if match:
            return match.group(1)
        found = re.search(r"v?(\d+\.\d+\.\d+)", output)
        return found.group(1) if found else None

    def _run(self, args: list[str], cwd: Path) -> list[dict[str, Any]]:
        result = _subprocess.run(
            [
                "gitleaks",
                *args,
                "--report-format",
                "json",
                "--report-path",
                "-",
                "--no-banner",
                "--redact",
                "--exit-code",
                "0",
                "--ignore-gitleaks-allow",
                "--log-level",
                "error",
            ],
            cwd=cwd,
            timeout=self.timeout,
        )
        data = load_json("gitleaks", result.stdout or "[]")
        return data if isinstance(data, list) else []

    def scan(self, root: Path, files: list[Path]) -> list[Finding]:
        findings: list[Finding] = []
        wanted = {f.as_posix() for f in files}
        with tempfile.TemporaryDirectory(prefix="shiprail-gitleaks-") as tmp:
            view = Path(tmp)
            for f in files:
                target = view / f
                target.parent.mkdir(parents=True, exist_ok=True)
                os.symlink((root / f).resolve(), target)
            for item in self._run(["dir", str(view), "--follow-symlinks"], cwd=root):
                relpath = _relative(item, (view, view.resolve(), root.resolve()))
                if relpath in wanted:
                    findings.append(self._finding(item, relpath, None))
        if self.history:
            findings.extend(self._history(root))
        return findings

    def _history(self, root: Path) -> list[Finding]:
        # gitleaks names files from the top of the repository; the scan is of ``root``
        prefix = _git(root, "rev-parse", "--show-prefix")
        if prefix is None:
            self._notes.append(
                ScanNote(self.name, f"git history not scanned: {root} is not in a git repository")
            )
            return []
        args = ["git", str(root)]
        if self.since:
            args += ["--log-opts", f"{self.since}..HEAD"]
        findings = []
        for item in self._run(args, cwd=root):
            path = str(item.get("File", ""))
            if not path.startswith(prefix):
                continue
            findings.append(self._finding(item, path.removeprefix(prefix), item.get("Commit")))
        return findings

    def _finding(self, item: dict[str, Any], path: str, commit: str | None) -> Finding:
        rule_id = str(item.get("RuleID", "gitleaks"))
        severity = Severity.critical if "private-key" in rule_id else Severity.high
        description = item.get("Description") or rule_id
        rule = Rule(
            id=f"gitleaks.{rule_id}",
            name=rule_id,
            description=description,
            help_uri="https://github.com/gitleaks/gitleaks",
            help_text="Remove the secret, rotate it, and load it from the environment or a "
            "secret store.",
        )
        where = f" in commit {commit}" if commit else ""
        return Finding(
            tool=self.name,
            rule=rule,
            severity=severity,
            message=f"{description}{where} (value not shown)",
            path=path,
            start_line=int(item.get("StartLine") or 1),
            end_line=int(item.get("EndLine") or item.get("StartLine") or 1),
            # history findings are keyed by commit, since the line may no longer exist
            snippet=f"commit:{commit}:{rule_id}" if commit else None,
            properties={"commit": commit} if commit else {},
        )
