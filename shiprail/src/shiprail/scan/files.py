"""Which files a scan looks at: the tree (git-aware), minus ignored paths, optionally only
those changed since a git ref."""

from __future__ import annotations

import fnmatch
import os
from pathlib import Path

from shiprail import _subprocess
from shiprail.errors import ShiprailError, UsageError

#: Directories never scanned when walking a tree that is not a git repository.
SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".venv",
        "venv",
        "node_modules",
        ".tools",
        ".cache",
        "__pycache__",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        ".tox",
        "reports",
        "build",
        "dist",
    }
)
#: Always left out, even when tracked: generated output and tool state.
ALWAYS_IGNORED = ("reports/*", ".cache/*", ".tools/*", ".venv/*")


def _git(root: Path, *args: str) -> list[str] | None:
    try:
        result = _subprocess.run(["git", "-C", str(root), *args], timeout=60, ok_codes=None)
    except ShiprailError:
        return None
    if result.returncode != 0:
        return None
    return [line for line in result.stdout.splitlines() if line]


def is_git(root: Path) -> bool:
    out = _git(root, "rev-parse", "--is-inside-work-tree")
    return out is not None and bool(out) and out[0] == "true"


def _walk(root: Path) -> list[Path]:
    found = []
    for current, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        base = Path(current).relative_to(root)
        for name in sorted(names):
            found.append(base / name)
    return found


def matches(path: str, pattern: str) -> bool:
    """Glob match where ``dir``, ``dir/`` and ``dir/**`` all mean everything under ``dir``."""
    pattern = pattern.strip().removeprefix("./")
    if fnmatch.fnmatch(path, pattern):
        return True
    prefix = pattern.removesuffix("/**").removesuffix("/")
    return "*" not in prefix and (path == prefix or path.startswith(prefix + "/"))


def discover(root: Path, ignore: list[str], changed_since: str | None = None) -> list[Path]:
    """Repo-relative files to scan, sorted."""
    if is_git(root):
        listed = _git(root, "ls-files", "-co", "--exclude-standard") or []
        files = [Path(p) for p in listed]
    else:
        files = _walk(root)
    patterns = [*ALWAYS_IGNORED, *ignore]
    kept = [
        f
        for f in files
        if not any(matches(f.as_posix(), p) for p in patterns) and (root / f).is_file()
    ]
    if changed_since:
        changed = changed_files(root, changed_since)
        kept = [f for f in kept if f.as_posix() in changed]
    return sorted(set(kept))


def changed_files(root: Path, ref: str) -> set[str]:
    if not is_git(root):
        raise UsageError(f"--changed-since needs a git repository; {root} is not one")
    diff = _git(root, "diff", "--name-only", "--relative", ref)
    if diff is None:
        raise UsageError(
            f"--changed-since: '{ref}' is not a git revision here",
            hint="use a branch, tag or commit, e.g. origin/main",
        )
    untracked = _git(root, "ls-files", "-o", "--exclude-standard") or []
    return set(diff) | set(untracked)
