"""bandit: asserts are a test's business, not a finding, in test files only."""

from __future__ import annotations

from pathlib import Path

import pytest

from shiprail.scan.scanners.bandit import BanditScanner, is_test_file

from conftest import require_tools


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("tests/test_api.py", True),
        ("app/tests/helpers.py", True),
        ("pkg/conftest.py", True),
        ("pkg/thing_test.py", True),
        ("pkg/test_thing.py", True),
        ("pkg/service.py", False),
        ("pkg/contest.py", False),
        ("tests.py", False),
    ],
)
def test_is_test_file(path, expected):
    assert is_test_file(path) is expected


def test_asserts_are_reported_in_code_but_not_in_tests(tmp_path: Path):
    require_tools("bandit")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_x.py").write_text("def test_x():\n    assert 1 + 1 == 2\n")
    (tmp_path / "service.py").write_text("def check(user):\n    assert user.is_admin\n")
    files = [Path("tests/test_x.py"), Path("service.py")]
    findings = BanditScanner().scan(tmp_path, files)
    asserts = [f for f in findings if f.rule.id == "B101"]
    assert [f.path for f in asserts] == ["service.py"]
