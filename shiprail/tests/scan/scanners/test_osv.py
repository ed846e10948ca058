"""osv: the offline dependency audit against an OSV directory (the PyPA advisory database).

The advisory data is third-party and not committed: the parsing tests use small OSV records
of our own, in the database's layout, and the live run reads the pinned snapshot that
``make tools`` fetches into ``.cache/data/advisory-db``."""

from __future__ import annotations

from pathlib import Path

import pytest

from shiprail.errors import ToolMissing
from shiprail.scan.fingerprint import fingerprints
from shiprail.scan.scanners.osv import OsvScanner

from ._support import CORPUS, REPO, essentials
from conftest import unavailable

SNAPSHOT = REPO / ".cache" / "data" / "advisory-db" / "pypa" / "vulns"

ADVISORY = """\
id: PYSEC-0000-1
summary: Template injection in demo-pkg
aliases: [CVE-0000-0001]
affected:
  - package: {name: Demo_Pkg, ecosystem: PyPI}
    ranges:
      - type: ECOSYSTEM
        events: [{introduced: "0"}, {fixed: "1.4.2"}]
    versions: ["1.0"]
database_specific: {severity: MODERATE}
"""
WITHDRAWN = """\
id: PYSEC-0000-2
withdrawn: "2024-01-01T00:00:00Z"
affected:
  - package: {name: demo-pkg, ecosystem: PyPI}
    ranges: [{type: ECOSYSTEM, events: [{introduced: "0"}]}]
"""


@pytest.fixture
def db(tmp_path: Path) -> Path:
    folder = tmp_path / "db" / "vulns" / "demo-pkg"
    folder.mkdir(parents=True)
    (folder / "PYSEC-0000-1.yaml").write_text(ADVISORY)
    (folder / "PYSEC-0000-2.yaml").write_text(WITHDRAWN)
    (tmp_path / "db" / "SOURCE").write_text("source: demo advisories (2024-05-01)\n")
    return tmp_path / "db" / "vulns"


def _scan(db: Path, root: Path, requirements: str) -> tuple[list, OsvScanner]:
    (root / "requirements.txt").write_text(requirements)
    scanner = OsvScanner(db)
    return scanner.scan(root, [Path("requirements.txt")]), scanner


def test_pins_in_range_are_findings_with_the_advisory_severity(db: Path, tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    text = "# pins\ndemo_pkg==1.4.1 --hash=sha256:00\ndemo-pkg==1.4.2\nother==1.0\n"
    findings, scanner = _scan(db, root, text)
    assert essentials(findings) == [("PYSEC-0000-1", "medium", "requirements.txt", 2)]
    [finding] = findings
    assert finding.message == (
        "demo_pkg 1.4.1 is affected by PYSEC-0000-1 (CVE-0000-0001); fixed in 1.4.2"
    )
    assert finding.rule.description == "Template injection in demo-pkg"
    [note] = scanner.notes()
    assert note.message == (
        "dependencies checked offline against demo advisories, snapshot of 2024-05-01; "
        "3 pinned package version(s) audited"
    )


def test_fingerprint_follows_the_pin_not_its_line(db: Path, tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    before, _ = _scan(db, root, "demo-pkg==1.0\n")
    after, _ = _scan(db, root, "# added above\nother==2.0\ndemo-pkg==1.0\n")
    assert [f.start_line for f in after] == [3]
    assert fingerprints(before) == fingerprints(after)


def test_no_pins_no_findings(db: Path, tmp_path: Path) -> None:
    findings, scanner = _scan(db, tmp_path, "# nothing pinned\nrequests>=2\n")
    assert findings == []
    assert "0 pinned package version(s) audited" in scanner.notes()[0].message


def test_missing_database_says_how_to_get_it(tmp_path: Path) -> None:
    with pytest.raises(ToolMissing) as caught:
        OsvScanner(tmp_path / "absent").scan(tmp_path, [])
    assert "advisory database" in caught.value.message


def test_live_run_on_the_pinned_snapshot() -> None:
    if not SNAPSHOT.is_dir():
        unavailable(f"advisory snapshot not fetched: {SNAPSHOT} (make tools)")
    scanner = OsvScanner(SNAPSHOT)
    findings = scanner.scan(CORPUS, [Path("requirements.txt")])
    assert essentials(findings) == [
        ("PYSEC-2019-217", "high", "requirements.txt", 2),
        ("PYSEC-2021-66", "high", "requirements.txt", 2),
    ]
    assert {f.snippet for f in findings} == {"jinja2==2.10"}
    assert "pypa/advisory-database" in scanner.notes()[0].message
