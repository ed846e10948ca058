"""Benchmark ``shiprail scan``, in one run, on two trees.

This repository:
- cold: an empty result cache, scanners in parallel (bounded by the cores);
- warm: the same again with nothing changed (every scanner read from the cache);
- sequential: an empty cache, one job at a time (the tools run one after another).

A tree about twenty times larger: the service's installed dependencies (runtime and dev,
copied from the virtual environment: real code none of us wrote), in a fresh git repository:
- cold, warm, and after a one-line change to one file (no flag: the scan is incremental);
- ``--changed-since HEAD`` with an empty cache (what a pull request pays with no cache).

Each run reports seconds, files per second and the peak memory (largest resident set of
any process of the scan, the tools included). The cold run's ``seconds`` per scanner are the
scanners' work; cold / their sum shows how well the cores are shared. Prints a table and
writes ``reports/bench-scan.json``. Tool versions are cached once and shared by all runs,
so the figures compare scanning work, not start-up probes.
"""

from __future__ import annotations

import importlib.metadata as md
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
SHIPRAIL = ROOT / ".venv" / "bin" / "shiprail"
SERVICE = "workorders"
SERVICE_EXTRAS = ("dev",)
#: runs a command and prints the largest resident set (kB) of any process it waited for
MEASURE = (
    "import resource, subprocess, sys\n"
    "code = subprocess.call(sys.argv[1:])\n"
    "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
    "sys.stderr.write(f'\\npeak-rss-kb {peak}\\n')\n"
    "sys.exit(code)\n"
)
GIT_ENV = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.invalid",
}


@dataclass
class Run:
    name: str
    seconds: float
    code: int
    report: dict[str, Any]
    peak_mb: float

    @property
    def files(self) -> int:
        return int(self.report["files"])

    @property
    def findings(self) -> int:
        return int(self.report["summary"]["findings"])

    def work(self) -> dict[str, float]:
        """Seconds of work per scanner that ran (tool runs, not waiting for a core)."""
        scanners = self.report["scanners"]
        return {s["name"]: s["seconds"] for s in scanners if s["status"] == "ran"}


def scan(name: str, tree: Path, cache: Path, out: Path, *extra: str) -> Run:
    env = {**os.environ, "SHIPRAIL_SCAN_CACHE": str(cache)}
    args = [str(SHIPRAIL), "scan", str(tree), "--format", "json", "--output", str(out), *extra]
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", MEASURE, *args],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if proc.returncode not in (0, 1, 3) or not out.is_file():
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"shiprail scan failed with exit {proc.returncode}")
    peak_kb = int(proc.stderr.rstrip().rsplit("peak-rss-kb ", 1)[-1])
    print(f"  ... {tree.name}: {name} {seconds:.1f}s", file=sys.stderr, flush=True)
    return Run(name, seconds, proc.returncode, json.loads(out.read_text()), peak_kb / 1024)


def fresh(cache: Path) -> None:
    shutil.rmtree(cache / "results", ignore_errors=True)


def service_distributions() -> list[md.Distribution]:
    """The service's dependencies as installed (runtime and the dev extra), the service's
    own (editable) package left out."""
    seen: dict[str, md.Distribution] = {}
    todo: list[tuple[str, tuple[str, ...]]] = [(SERVICE, SERVICE_EXTRAS)]
    while todo:
        name, extras = todo.pop()
        key = canonicalize_name(name)
        if key in seen:
            continue
        try:
            dist = md.distribution(key)
        except md.PackageNotFoundError:
            continue
        seen[key] = dist
        for text in dist.requires or []:
            req = Requirement(text)
            wanted = [{"extra": e} for e in ("", *extras)]
            if req.marker is None or any(req.marker.evaluate(w) for w in wanted):
                todo.append((req.name, tuple(req.extras)))
    return [d for k, d in sorted(seen.items()) if k != SERVICE]


def dependency_tree(dest: Path) -> int:
    """Copy the installed files of the service's dependencies into ``dest`` and commit them
    to a new git repository; the number of files."""
    count = 0
    for dist in service_distributions():
        for item in dist.files or []:
            rel = Path(str(item))
            if ".." in rel.parts or "__pycache__" in rel.parts or rel.suffix == ".pyc":
                continue
            source = Path(str(dist.locate_file(item)))
            if not source.is_file():
                continue
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            count += 1
    env = {**os.environ, **GIT_ENV}
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "dependencies"]):
        subprocess.run(["git", "-C", str(dest), *args], env=env, check=True)
    return count


def one_file_change(tree: Path) -> Path:
    """Append one line to the first Python module of a few kilobytes (deterministic)."""
    for path in sorted(tree.rglob("*.py")):
        if ".git" not in path.parts and path.stat().st_size > 4000:
            with path.open("a", encoding="utf-8") as handle:
                handle.write("\nBENCH_CHANGED = 1\n")
            return path
    raise SystemExit("no Python module to change in the dependency tree")


#: one small file each scanner applies to: a scan of them caches every tool's version
PROBE_FILES = {
    "a.py": "x = 1\n",
    "a.sh": "#!/bin/sh\necho ok\n",
    "Dockerfile": "FROM debian:12\nUSER nobody\n",
    ".github/workflows/a.yml": "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n"
    "      - run: echo ok\n",
    "main.tf": "locals {\n  a = 1\n}\n",
}


def probe_versions(tmp: Path, cache: Path) -> None:
    """Cache every tool's version once, on a tiny tree, so no measured run pays for it."""
    tree = tmp / "probe"
    for name, text in PROBE_FILES.items():
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        (tree / name).write_text(text)
    scan("probe", tree, cache, tmp / "probe.json")
    fresh(cache)


def repository_runs(tmp: Path) -> list[Run]:
    cache = tmp / "cache-repo"
    rows = [scan("cold (parallel)", ROOT, cache, tmp / "cold.json")]
    rows.append(scan("warm (cached)", ROOT, cache, tmp / "warm.json"))
    fresh(cache)
    rows.append(scan("sequential (1 job)", ROOT, cache, tmp / "seq.json", "--jobs", "1"))
    return rows


def large_runs(tmp: Path) -> tuple[list[Run], int, str]:
    tree = tmp / "dependencies"
    files = dependency_tree(tree)
    cache = tmp / "cache-large"
    cache.mkdir()
    shutil.copyfile(tmp / "cache-repo" / "versions.json", cache / "versions.json")
    rows = [scan("cold", tree, cache, tmp / "l-cold.json")]
    rows.append(scan("warm", tree, cache, tmp / "l-warm.json"))
    changed = one_file_change(tree)
    rows.append(scan("one-file change", tree, cache, tmp / "l-one.json"))
    fresh(cache)
    rows.append(
        scan("--changed-since HEAD", tree, cache, tmp / "l-since.json", "--changed-since", "HEAD")
    )
    return rows, files, changed.relative_to(tree).as_posix()


def table(title: str, rows: list[Run]) -> None:
    print(title)
    print(
        f"  {'run':<22} {'seconds':>8} {'files':>6} {'files/s':>8} {'peak MB':>8} {'exit':>5} "
        f"{'findings':>9}"
    )
    for r in rows:
        rate = r.files / r.seconds if r.seconds else 0.0
        print(
            f"  {r.name:<22} {r.seconds:>8.1f} {r.files:>6} {rate:>8.1f} {r.peak_mb:>8.0f} "
            f"{r.code:>5} {r.findings:>9}"
        )


def summary(repo: list[Run], large: list[Run], large_files: int, changed: str) -> dict[str, Any]:
    cold, warm, seq = repo
    l_cold, l_warm, l_one, l_since = large
    work = l_cold.work()
    return {
        "cores": os.cpu_count(),
        "repository": {
            "files": cold.files,
            "cold_seconds": round(cold.seconds, 2),
            "warm_seconds": round(warm.seconds, 2),
            "sequential_seconds": round(seq.seconds, 2),
            "cold_over_sequential": round(cold.seconds / seq.seconds, 3),
            "per_scanner_sequential": seq.work(),
        },
        "dependencies": {
            "files": large_files,
            "changed_file": changed,
            "runs": {
                r.name: {
                    "seconds": round(r.seconds, 2),
                    "files": r.files,
                    "files_per_second": round(r.files / r.seconds, 1),
                    "peak_mb": round(r.peak_mb, 1),
                    "findings": r.findings,
                    "work": r.work(),
                }
                for r in large
            },
            "cold_over_work": round(l_cold.seconds / sum(work.values()), 3) if work else None,
            "one_file_over_cold": round(l_one.seconds / l_cold.seconds, 3),
            "warm_over_cold": round(l_warm.seconds / l_cold.seconds, 3),
            "changed_since_over_cold": round(l_since.seconds / l_cold.seconds, 3),
        },
    }


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="shiprail-bench-scan-"))
    try:
        probe_versions(tmp, tmp / "cache-repo")
        large, large_files, changed = large_runs(tmp)
        repo = repository_runs(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    result = summary(repo, large, large_files, changed)
    table(f"shiprail scan on {ROOT.name}: {repo[0].files} files, {os.cpu_count()} cores", repo)
    r = result["repository"]
    print(f"  cold/sequential {r['cold_over_sequential']:.2f}")
    print(
        "  per scanner (sequential): " + ", ".join(f"{k} {v}s" for k, v in repo[2].work().items())
    )
    table(f"dependency tree: {large_files} files (changed: {changed})", large)
    d = result["dependencies"]
    print("  cold work per scanner: " + ", ".join(f"{k} {v}s" for k, v in large[0].work().items()))
    ratios = ("cold_over_work", "one_file_over_cold", "warm_over_cold", "changed_since_over_cold")
    for key in ratios:
        print(f"  {key.replace('_', ' ')}: {d[key]}")
    out = ROOT / "reports" / "bench-scan.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
