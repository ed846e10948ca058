"""When each commit was made, from git: the start of a change's lead time.

One ``git log --no-walk --stdin`` run answers every commit of a report at once (a process per
release would take minutes over a long history), and answers are cached for the rest of the
run. A commit git does not know (an image built from another clone, a label that is not a
commit) is left out, and the report counts it as ``unknown``.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from pathlib import Path

from shiprail import _subprocess

#: What a commit id looks like; anything else is never handed to git.
_SHA = re.compile(r"[0-9a-f]{7,64}")
GIT_TIMEOUT_SECONDS = 60.0


class GitCommitTimes:
    """Commit times (``%ct``, the committer's clock) of the repository at ``repo``."""

    def __init__(self, repo: Path) -> None:
        self.repo = repo
        self._cache: dict[str, datetime | None] = {}

    def __call__(self, shas: Collection[str]) -> Mapping[str, datetime]:
        wanted = sorted({s for s in shas if _SHA.fullmatch(s) and s not in self._cache})
        if wanted:
            self._lookup(wanted)
        return {s: when for s in shas if (when := self._cache.get(s)) is not None}

    def _lookup(self, wanted: list[str]) -> None:
        result = _subprocess.run(
            ["git", "-C", str(self.repo), "log", "--no-walk=unsorted", "--ignore-missing",
             "--stdin", "--format=%H %ct"],
            input_text="\n".join(wanted) + "\n",
            timeout=GIT_TIMEOUT_SECONDS,
            ok_codes=None,
        )  # fmt: skip
        found: dict[str, datetime] = {}
        if result.returncode == 0:
            for line in result.stdout.splitlines():
                full, _, stamp = line.partition(" ")
                if stamp.isdigit():
                    found[full] = datetime.fromtimestamp(int(stamp), UTC)
        for sha in wanted:  # releases may carry an abbreviated commit id
            self._cache[sha] = next((t for full, t in found.items() if full.startswith(sha)), None)
