"""Fingerprints, baselines, waivers, cache invalidation and crashes, through the real engine
and gate with a fake scanner."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

from shiprail.findings import Finding, Rule, Severity
from shiprail.scan import baseline as baseline_mod
from shiprail.scan.engine import CACHED, CRASHED, RAN
from shiprail.scan.fingerprint import fingerprints
from shiprail.scan.gate import BASELINED, OPEN, SUPPRESSED, WAIVED
from shiprail.scan.runner import baseline_entries, run_scan
from shiprail.scan.settings import ScanConfig, ScanSettings
from shiprail.scan.waivers import Waiver

from .scan_fakes import FakeScanner


def settings(root: Path, **config: object) -> ScanSettings:
    cfg = ScanConfig.model_validate({"cache_dir": str(root / ".cache" / "scan"), **config})
    return ScanSettings(root=root, config=cfg, home=root)


def write(root: Path, name: str, text: str) -> None:
    (root / name).parent.mkdir(parents=True, exist_ok=True)
    (root / name).write_text(text)


def finding(path: str, line: int, snippet: str, rule: str = "R1") -> Finding:
    return Finding("t", Rule(rule, rule, "d"), Severity.high, "m", path, line, snippet=snippet)


def test_fingerprint_survives_line_moves_and_reindent() -> None:
    before = fingerprints([finding("a.py", 10, "eval(x)")])
    after = fingerprints([finding("a.py", 42, "    eval(x)  ")])
    assert before == after
    assert fingerprints([finding("b.py", 10, "eval(x)")]) != before
    assert fingerprints([finding("a.py", 10, "eval(x)", rule="R2")]) != before
    assert fingerprints([finding("a.py", 10, "eval(y)")]) != before


def test_identical_lines_get_distinct_stable_fingerprints() -> None:
    two = fingerprints([finding("a.py", 30, "eval(x)"), finding("a.py", 3, "eval(x)")])
    assert len(set(two)) == 2
    assert two[1] == fingerprints([finding("a.py", 3, "eval(x)")])[0]  # first keeps plain
    assert two[0].endswith(":2")


def test_gate_blocks_at_threshold_and_per_category(tmp_path: Path) -> None:
    write(tmp_path, "a.txt", "BAD\n")
    low = FakeScanner(severity=Severity.medium)
    assert run_scan(settings(tmp_path), scanners=[low]).exit_code == 0
    strict = settings(tmp_path, categories={"sast": "medium"})
    outcome = run_scan(strict, scanners=[FakeScanner(severity=Severity.medium)])
    assert outcome.exit_code == 1
    assert [i.finding.path for i in outcome.decision.blocking] == ["a.txt"]


def test_baseline_holds_the_line_after_lines_move(tmp_path: Path) -> None:
    write(tmp_path, "a.txt", "ok\nBAD one\n")
    first = run_scan(settings(tmp_path), scanners=[FakeScanner()])
    assert first.exit_code == 1
    base = tmp_path / "baseline.json"
    baseline_mod.write(base, baseline_entries(first))
    assert json.loads(base.read_text())["findings"][0]["path"] == "a.txt"

    write(tmp_path, "a.txt", "new\nlines\nabove\nok\nBAD one\n")
    moved = run_scan(settings(tmp_path), scanners=[FakeScanner()], baseline=base)
    assert [i.state for i in moved.decision.items] == [BASELINED]
    assert moved.exit_code == 0

    write(tmp_path, "a.txt", "ok\nBAD one\nBAD two\n")
    grown = run_scan(settings(tmp_path), scanners=[FakeScanner()], baseline=base)
    assert grown.exit_code == 1
    assert [i.finding.start_line for i in grown.decision.blocking] == [3]


def test_waiver_expiry_warning_and_unused(tmp_path: Path) -> None:
    write(tmp_path, "a.txt", "BAD\n")
    write(tmp_path, "b.txt", "BAD\n")
    today = dt.date(2030, 1, 10)
    write(
        tmp_path,
        ".shiprail/waivers.yaml",
        "waivers:\n"
        "  - rule: FAKE1\n    path: a.txt\n    reason: fixed next sprint\n"
        "    owner: team-a\n    expires: 2030-01-15\n"
        "  - rule: FAKE1\n    path: b.txt\n    reason: accepted risk\n"
        "    owner: team-b\n    expires: 2030-01-01\n"
        "  - fingerprint: deadbeef\n    reason: stale entry\n    owner: team-c\n"
        "    expires: 2031-01-01\n",
    )
    outcome = run_scan(settings(tmp_path), scanners=[FakeScanner()], today=today)
    states = {i.finding.path: i for i in outcome.decision.items}
    assert states["a.txt"].state == WAIVED  # expiring soon: still applies
    assert states["b.txt"].state == OPEN  # expired: blocks again
    assert "expired" in (states["b.txt"].note or "")
    d = outcome.decision
    assert [w.waiver.owner for w in d.expiring_waivers] == ["team-a"]
    assert [w.waiver.owner for w in d.expired_waivers] == ["team-b"]
    assert [w.waiver.owner for w in d.unused_waivers] == ["team-c"]
    assert outcome.exit_code == 1


def test_waiver_by_fingerprint(tmp_path: Path) -> None:
    write(tmp_path, "a.txt", "BAD\n")
    first = run_scan(settings(tmp_path), scanners=[FakeScanner()])
    fp = first.decision.items[0].fingerprint
    Waiver(fingerprint=fp, reason="reviewed", owner="sec", expires=dt.date(2099, 1, 1))
    write(
        tmp_path,
        ".shiprail/waivers.yaml",
        f"waivers:\n  - fingerprint: {fp}\n    reason: reviewed\n    owner: sec\n"
        "    expires: 2099-01-01\n",
    )
    assert run_scan(settings(tmp_path), scanners=[FakeScanner()]).exit_code == 0


def test_inline_suppression_needs_a_reason(tmp_path: Path) -> None:
    write(tmp_path, "a.txt", "BAD  # nosec FAKE1 - test fixture, never deployed\nBAD  # nosec\n")
    outcome = run_scan(settings(tmp_path), scanners=[FakeScanner()])
    by_line = {i.finding.start_line: i for i in outcome.decision.items}
    assert by_line[1].state == SUPPRESSED
    assert "test fixture" in (by_line[1].justification or "")
    assert by_line[2].state == OPEN and "without a reason" in (by_line[2].note or "")
    assert outcome.exit_code == 1


def test_cache_reruns_only_on_change(tmp_path: Path) -> None:
    write(tmp_path, "a.txt", "BAD\n")
    tool = tmp_path / "bin" / "faketool"
    tool.parent.mkdir()
    tool.write_text("#!/bin/sh\necho faketool 1.0\n")
    tool.chmod(0o755)
    fake = FakeScanner()
    fake.version_cmd = [str(tool), "--version"]

    def run(scanner: FakeScanner) -> str:
        outcome = run_scan(settings(tmp_path), scanners=[scanner])
        return outcome.runs[0].status

    assert run(fake) == RAN
    assert run(fake) == CACHED and fake.calls == 1
    write(tmp_path, "a.txt", "BAD\nBAD\n")  # a scanned file changed
    assert run(fake) == RAN and fake.calls == 2
    assert run(fake) == CACHED
    fake.needle = "BA"  # the scanner's configuration changed
    assert run(fake) == RAN and fake.calls == 3
    tool.write_text("#!/bin/sh\necho faketool 1.1.0\n")  # the tool was upgraded
    os.utime(tool, ns=(1, 10**18))
    assert run(fake) == RAN and fake.calls == 4
    assert run(fake) == CACHED and fake.calls == 4
    write(tmp_path, "unrelated.md", "BAD\n")  # a file the scanner does not read
    assert run(fake) == CACHED


def test_crashed_scanner_is_exit_3_and_others_still_report(tmp_path: Path) -> None:
    write(tmp_path, "a.txt", "BAD\n")
    crashing = FakeScanner()
    crashing.crash = True
    crashing.name = "crashing"
    outcome = run_scan(settings(tmp_path), scanners=[crashing, FakeScanner()])
    assert outcome.exit_code == 3
    assert outcome.runs[0].status == CRASHED and "boom" in (outcome.runs[0].reason or "")
    assert len(outcome.decision.items) == 1


def test_ignored_paths_are_not_scanned(tmp_path: Path) -> None:
    write(tmp_path, "a.txt", "BAD\n")
    write(tmp_path, "samples/b.txt", "BAD\n")
    cfg = settings(tmp_path, ignore=[{"path": "samples/**", "reason": "insecure samples"}])
    outcome = run_scan(cfg, scanners=[FakeScanner()])
    assert [i.finding.path for i in outcome.decision.items] == ["a.txt"]
