"""scripts/fetch-data.sh: copies a pinned data set from the mirror, refuses a changed one."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from .conftest import REPO


def _digest(directory: Path) -> str:
    lines = "".join(
        f"{hashlib.sha256(p.read_bytes()).hexdigest()}  ./{p.relative_to(directory).as_posix()}\n"
        for p in sorted(directory.rglob("*"), key=lambda p: p.relative_to(directory).as_posix())
        if p.is_file() and p.name != "SOURCE"
    )
    return hashlib.sha256(lines.encode()).hexdigest()


def _setup(tmp_path: Path) -> tuple[Path, Path]:
    repo, mirror = tmp_path / "repo", tmp_path / "mirror"
    (repo / "scripts").mkdir(parents=True)
    shutil.copy(REPO / "scripts" / "fetch-data.sh", repo / "scripts" / "fetch-data.sh")
    (mirror / "crds").mkdir(parents=True)
    (mirror / "crds" / "a.yaml").write_text("kind: CustomResourceDefinition\n")
    (mirror / "crds" / "README.md").write_text("sources\n")
    pin = _digest(mirror / "crds")
    (repo / "tools.lock").write_text(f"opa go v1 x opa required\n#@data  crds  {pin}  crds  up@1\n")
    return repo, mirror


def _run(repo: Path, mirror: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SHIPRAIL_DATA_MIRROR": str(mirror)}
    return subprocess.run(
        ["bash", str(repo / "scripts" / "fetch-data.sh"), *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_copies_pins_and_is_idempotent(tmp_path: Path) -> None:
    repo, mirror = _setup(tmp_path)
    first = _run(repo, mirror)
    assert first.returncode == 0, first.stderr
    cached = repo / ".cache" / "data" / "crds"
    assert (cached / "a.yaml").is_file()
    assert "sha256:" in (cached / "SOURCE").read_text()
    again = _run(repo, mirror, "crds")
    assert again.returncode == 0 and "already present" in again.stderr


def test_refuses_data_that_differs_from_the_pin(tmp_path: Path) -> None:
    repo, mirror = _setup(tmp_path)
    (mirror / "crds" / "a.yaml").write_text("tampered\n")
    result = _run(repo, mirror)
    assert result.returncode != 0
    assert "does not match the pin" in result.stderr
    assert not (repo / ".cache" / "data" / "crds").exists()
    assert _run(repo, mirror, "nope").returncode != 0
