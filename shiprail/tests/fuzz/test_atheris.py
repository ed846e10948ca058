"""The configuration loaders under atheris (coverage-guided, libFuzzer): a bounded run each.

``targets.py`` holds the targets and what they assert (accepted, or one :class:`ConfigError`
line naming the file and line; the CLI exits 0 or 2 and writes no ledger). Here each target
runs for a fixed number of inputs with a fixed seed, starting from a corpus of this
repository's real files (``shiprail.yaml`` whole and section by section, the waivers file
whole and waiver by waiver, a baseline as ``--write-baseline`` writes it), so ``make test``
fuzzes the same way every time. To fuzz longer by hand, run ``targets.py`` with a larger
``-atheris_runs`` (or none: until stopped) and a corpus directory to grow.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from shiprail.scan import baseline

from conftest import integration_required

REPO = Path(__file__).resolve().parents[3]
TARGETS = Path(__file__).with_name("targets.py")
#: Inputs per target: enough for libFuzzer to reach the parsers' error branches, small enough
#: for ``make test`` on two busy cores (the instrumented YAML parser runs ~100 inputs/s).
RUNS = {"shiprail-yaml": 1500, "waivers": 1000, "baseline": 2000, "cli": 100}
#: Longest input libFuzzer makes; the seeds are split so most of them fit.
MAX_LEN = 1024
RUN_TIMEOUT_SECONDS = 900


def _sections(path: Path) -> list[bytes]:
    """The file itself, then each top-level key (and each list item below it) on its own."""
    text = path.read_bytes()
    data = yaml.safe_load(text) or {}
    seeds = [text]
    for key, value in data.items():
        seeds.append(yaml.safe_dump({key: value}, sort_keys=False).encode())
        if isinstance(value, dict):
            parts: list[Any] = [{sub: item} for sub, item in value.items()]
        else:
            parts = [[item] for item in value] if isinstance(value, list) else []
        seeds += [yaml.safe_dump({key: part}, sort_keys=False).encode() for part in parts]
    return seeds


def _baseline_seed(tmp: Path) -> list[bytes]:
    path = tmp / "baseline.json"
    entries = [
        {"fingerprint": f"{index:032x}", "rule": "B608", "path": "app/x.py", "line": index}
        for index in range(3)
    ]
    baseline.write(path, entries)
    return [path.read_bytes(), b'{"version": 1, "findings": []}\n']


def seeds(target: str, tmp: Path) -> list[bytes]:
    if target in ("shiprail-yaml", "cli"):
        return _sections(REPO / "shiprail.yaml")
    if target == "waivers":
        return _sections(REPO / ".shiprail" / "waivers.yaml")
    return _baseline_seed(tmp)


def _child_environment() -> dict[str, str]:
    """This environment without coverage's subprocess hook: libFuzzer ends the process with
    C ``exit``, so a coverage run in the child would only slow it down and record nothing."""
    return {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_")}


@pytest.mark.parametrize("target", sorted(RUNS))
def test_loader_survives_atheris(target: str, tmp_path: Path) -> None:
    try:
        import atheris  # noqa: F401
    except ImportError:
        if integration_required():
            pytest.fail("atheris is not installed (make lock; it is a dev dependency)")
        pytest.skip("atheris is not installed")
    corpus, work, artifacts = tmp_path / "corpus", tmp_path / "work", tmp_path / "artifacts"
    for directory in (corpus, work, artifacts):
        directory.mkdir()
    for index, seed in enumerate(seeds(target, tmp_path)):
        (corpus / f"seed-{index:03d}").write_bytes(seed)
    result = subprocess.run(
        [
            sys.executable,
            str(TARGETS),
            target,
            f"-atheris_runs={RUNS[target]}",
            "-seed=1",
            f"-max_len={MAX_LEN}",
            "-timeout=60",
            "-rss_limit_mb=1024",
            f"-artifact_prefix={artifacts}/",
            str(corpus),
        ],
        cwd=work,
        env=_child_environment(),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_SECONDS,
        check=False,
    )
    crashes = sorted(artifacts.iterdir())
    found = "\n".join(f"{c.name}: {c.read_bytes()[:400]!r}" for c in crashes)
    assert result.returncode == 0 and not crashes, (
        f"exit {result.returncode}; inputs that broke the contract:\n{found}\n"
        f"the end of libFuzzer's output:\n{result.stderr[-4000:]}"
    )
    done = re.search(r"^Done (\d+) ", result.stderr, re.MULTILINE)
    assert done and int(done.group(1)) >= RUNS[target], result.stderr[-2000:]
