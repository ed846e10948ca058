"""Capture the real tools' output once, as the fixtures of the per-scanner tests.

Run from the repository root, with the pinned tools installed (``make tools``)::

    .venv/bin/python shiprail/tests/scan/scanners/capture.py [NAME ...]

Each case of ``_support.CASES`` is run through the scanner's real ``scan()``, with a
recording wrapper in front of the real tool: the wrapper runs the tool with exactly the
arguments the scanner gives it and writes its standard output to ``data/<fixture>``,
with machine paths replaced by tokens (``@ROOT@`` for the scanned root, ``@ARG<n>@`` for an
absolute argument, semgrep's rule ids made relative to the repository). Re-capture when a
pinned tool changes, and review the diff: it is the tool's change of output format.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from scan.scanners._support import CASES, DATA, REPO, ROOT_MARK
from shiprail import _subprocess

_RECORDER = """#!{python}
import subprocess, sys, os
proc = subprocess.run([{real!r}, *sys.argv[1:]], capture_output=True, text=True)
text = proc.stdout
args = [(n, a) for n, a in enumerate(sys.argv[1:], start=1) if os.path.isabs(a)]
for n, arg in sorted(args, key=lambda item: -len(item[1])):
    if os.path.isdir(arg) and arg != {repo!r}:
        text = text.replace(arg, "@ARG%d@" % n)
text = text.replace(os.getcwd(), {token!r})
text = text.replace({dotted!r}, "")
with open({out!r}, "w") as handle:
    handle.write(text)
sys.stdout.write(proc.stdout)
sys.stderr.write(proc.stderr)
sys.exit(proc.returncode)
"""


def capture(name: str) -> None:
    case = CASES[name]
    real = _subprocess.which(case.tool)
    if real is None:
        raise SystemExit(f"{case.tool} is not installed (make tools)")
    with tempfile.TemporaryDirectory(prefix="shiprail-capture-") as tmp:
        script = Path(tmp) / case.tool
        script.write_text(
            _RECORDER.format(
                python=sys.executable,
                real=real,
                repo=str(REPO),
                token=ROOT_MARK,
                dotted=".".join(REPO.parts[1:]) + ".",
                out=str(DATA / case.fixture),
            )
        )
        script.chmod(0o755)
        os.environ["SHIPRAIL_TOOLS_BIN"] = tmp
        try:
            findings = case.scan()
        finally:
            del os.environ["SHIPRAIL_TOOLS_BIN"]
    print(f"{name}: {len(findings)} finding(s) -> data/{case.fixture}")


if __name__ == "__main__":
    for name in sys.argv[1:] or list(CASES):
        capture(name)
