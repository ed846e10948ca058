"""Shared helpers for the scan tests: a fake scanner driven through the real interface."""

from __future__ import annotations

from pathlib import Path

from shiprail.errors import ToolCrashed
from shiprail.findings import Category, Finding, Rule, Severity
from shiprail.scan.scanners.interface import Scanner

CORPUS = Path(__file__).parent / "corpus"


class FakeScanner(Scanner):
    """Reports one finding per line containing ``needle`` in ``*.txt`` files."""

    name = "fake"
    category = Category.sast
    binary = ""
    patterns = ("*.txt",)

    def __init__(self, needle: str = "BAD", severity: Severity = Severity.high) -> None:
        self.needle = needle
        self.severity = severity
        self.calls = 0
        self.version_cmd: list[str] | None = None
        self.crash = False

    def version_command(self) -> list[str] | None:
        return self.version_cmd

    def cache_key_extra(self) -> dict[str, str]:
        return {"needle": self.needle}

    def scan(self, root: Path, files: list[Path]) -> list[Finding]:
        self.calls += 1
        if self.crash:
            raise ToolCrashed("'fake' exited with 2: boom")
        out = []
        for f in files:
            for number, line in enumerate((root / f).read_text().splitlines(), start=1):
                if self.needle in line:
                    out.append(
                        Finding(
                            tool=self.name,
                            rule=Rule("FAKE1", "fake-rule", "a fake rule"),
                            severity=self.severity,
                            message="bad thing",
                            path=f.as_posix(),
                            start_line=number,
                        )
                    )
        return out
