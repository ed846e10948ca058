"""Where things live: the repository root and the project-local tool directory."""

from __future__ import annotations

import os
from pathlib import Path


def repo_root(start: Path | None = None) -> Path:
    """The nearest ancestor holding ``tools.lock`` or ``shiprail.yaml`` (else the cwd)."""
    if env := os.environ.get("SHIPRAIL_ROOT"):
        return Path(env).resolve()
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / "tools.lock").is_file() or (candidate / "shiprail.yaml").is_file():
            return candidate
    return here


def tools_bin(root: Path | None = None) -> Path:
    """Project-local binaries installed by ``make tools`` (``.tools/bin``)."""
    if env := os.environ.get("SHIPRAIL_TOOLS_BIN"):
        return Path(env)
    return (root or repo_root()) / ".tools" / "bin"
