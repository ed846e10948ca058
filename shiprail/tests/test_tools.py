"""Pinned tools are found where ``make tools`` installs them, from any folder and any PATH.

A user runs ``.venv/bin/shiprail`` from a plain shell or scans a second repository: neither
has ``.tools/bin`` on PATH nor the shiprail checkout as working directory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from shiprail import _subprocess
from shiprail.paths import package_checkout, tool_dirs
from shiprail.settings import get_settings

from conftest import unavailable

STRIPPED_PATH = "/usr/bin:/bin"


def fake_tool(directory: Path, name: str, version: str = "1.2.3") -> Path:
    """An executable that prints ``name version`` (a stand-in for a pinned tool)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(f"#!/bin/sh\necho '{name} {version}'\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def elsewhere(tmp_path, monkeypatch) -> Path:
    """A working directory outside any repository, with PATH stripped to the system's."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    monkeypatch.chdir(folder)
    monkeypatch.setenv("PATH", STRIPPED_PATH)
    for name in ("SHIPRAIL_ROOT", "SHIPRAIL_HOME", "SHIPRAIL_TOOLS_BIN"):
        monkeypatch.delenv(name, raising=False)
    return folder


def use_tools_bin(monkeypatch: pytest.MonkeyPatch, directory: Path) -> None:
    monkeypatch.setenv("SHIPRAIL_TOOLS_BIN", str(directory))
    get_settings.cache_clear()  # settings are read once per process


def test_a_tool_in_shiprail_tools_bin_is_found_from_another_folder(elsewhere, monkeypatch):
    tool = fake_tool(elsewhere.parent / "pinned", "shiprail-fake-tool")
    assert _subprocess.which("shiprail-fake-tool") is None
    use_tools_bin(monkeypatch, tool.parent)
    assert _subprocess.which("shiprail-fake-tool") == str(tool)
    assert _subprocess.run(["shiprail-fake-tool"]).stdout.strip() == "shiprail-fake-tool 1.2.3"


def test_the_pinned_tool_wins_over_the_one_on_path(elsewhere, monkeypatch):
    on_path = fake_tool(elsewhere.parent / "on-path", "shiprail-fake-tool", "9.9.9")
    pinned = fake_tool(elsewhere.parent / "pinned", "shiprail-fake-tool")
    monkeypatch.setenv("PATH", f"{on_path.parent}:{STRIPPED_PATH}")
    assert _subprocess.which("shiprail-fake-tool") == str(on_path)
    use_tools_bin(monkeypatch, pinned.parent)
    assert _subprocess.which("shiprail-fake-tool") == str(pinned)


def test_the_current_repository_tools_are_searched_after_the_checkout(elsewhere):
    repo = elsewhere / "second-repo"
    (repo / ".tools" / "bin").mkdir(parents=True)
    (repo / "shiprail.yaml").write_text("version: 1\n")
    os.chdir(repo)
    dirs = tool_dirs()
    checkout = package_checkout()
    assert dirs[-1] == repo.resolve() / ".tools" / "bin"
    if checkout is not None:
        assert dirs[0] == checkout / ".tools" / "bin"
    tool = fake_tool(repo / ".tools" / "bin", "shiprail-fake-tool")
    assert _subprocess.which("shiprail-fake-tool") == str(tool.resolve())


def _checkout_tool(name: str) -> Path:
    checkout = package_checkout()
    if checkout is None:
        unavailable("shiprail is not installed from a checkout (no tools.lock above it)")
    path = checkout / ".tools" / "bin" / name
    if not os.access(path, os.X_OK):
        unavailable(f"{name} is not installed in {path.parent} (make tools)")
    return path


def test_the_checkout_tools_are_found_from_another_folder(elsewhere):
    bandit = _checkout_tool("bandit")
    assert _subprocess.which("bandit") == str(bandit)


def test_shiprail_scan_from_another_folder_with_a_bare_path_runs_bandit(tmp_path):
    """The real CLI, as a user runs it from a plain shell in a second repository."""
    _checkout_tool("bandit")
    cli = Path(sys.executable).parent / "shiprail"
    if not cli.is_file():
        unavailable(f"no shiprail console script beside {sys.executable}")
    project = tmp_path / "project"
    project.mkdir()
    (project / "run.py").write_text(
        "import subprocess\n\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n"
    )
    env = {
        "PATH": STRIPPED_PATH,
        "HOME": str(tmp_path),
        "SHIPRAIL_SCAN_CACHE": str(tmp_path / "scan-cache"),
    }
    result = subprocess.run(
        [str(cli), "scan", "--only", "bandit", "--no-cache", "--format", "json", "--output", "-"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    (bandit,) = [s for s in report["scanners"] if s["name"] == "bandit"]
    assert bandit["status"] == "ran", bandit
    assert report["root"] == str(project.resolve())
    assert report["summary"]["by_tool"] == {"bandit": report["summary"]["findings"]} != {}


def test_install_tools_names_a_system_prerequisite_and_installs_nothing(tmp_path):
    """``system`` lines (terraform) are reported, found or not, and never fail the script."""
    script = Path(__file__).resolve().parents[2] / "scripts" / "install-tools.sh"
    checkout = tmp_path / "checkout"
    (checkout / "scripts").mkdir(parents=True)
    (checkout / "scripts" / "install-tools.sh").write_bytes(script.read_bytes())
    (checkout / "scripts" / "install-tools.sh").chmod(0o755)
    (checkout / "tools.lock").write_text(
        "# header\n"
        "sh-here  system 1.0 - sh                 required\n"
        "missing  system 2.0 - no-such-binary-sys required\n"
    )
    result = subprocess.run(
        [str(checkout / "scripts" / "install-tools.sh")],
        env={"PATH": STRIPPED_PATH, "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "system sh-here: found /usr/bin/sh" in result.stderr or (
        "system sh-here: found /bin/sh" in result.stderr
    )
    assert "system missing 2.0: not installed, and not installable by this script" in (
        result.stderr
    )
    assert sorted(p.name for p in (checkout / ".tools" / "bin").iterdir()) == []
