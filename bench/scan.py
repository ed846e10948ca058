"""Benchmark ``shiprail scan`` on this repository, in one run:

- cold: an empty result cache, scanners in parallel (bounded by the cores);
- warm: the same again with nothing changed (every scanner read from the cache);
- sequential: an empty cache, one scanner at a time (the tools run one after another).

Prints a table and writes ``reports/bench-scan.json``. Tool versions are cached separately
and shared by the three runs, so the figures compare scanning work, not start-up probes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHIPRAIL = ROOT / ".venv" / "bin" / "shiprail"


def scan(cache: Path, jobs: int | None, out: Path) -> tuple[float, int, dict[str, object]]:
    env = {**os.environ, "SHIPRAIL_SCAN_CACHE": str(cache)}
    args = [str(SHIPRAIL), "scan", str(ROOT), "--format", "json", "--output", str(out)]
    if jobs:
        args += ["--jobs", str(jobs)]
    started = time.perf_counter()
    proc = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if proc.returncode not in (0, 1, 3) or not out.is_file():
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"shiprail scan failed with exit {proc.returncode}")
    return seconds, proc.returncode, json.loads(out.read_text())


def fresh(cache: Path) -> None:
    shutil.rmtree(cache / "results", ignore_errors=True)


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="shiprail-bench-scan-"))
    cache = tmp / "cache"
    try:
        # warm the tool-version cache once so no run pays for version probes
        scan(cache, None, tmp / "probe.json")
        rows = []
        fresh(cache)
        cold, code, report = scan(cache, None, tmp / "cold.json")
        rows.append(("cold (parallel)", cold, code, report))
        warm, code, report = scan(cache, None, tmp / "warm.json")
        rows.append(("warm (cached)", warm, code, report))
        fresh(cache)
        seq, code, report = scan(cache, 1, tmp / "seq.json")
        rows.append(("sequential (1 job)", seq, code, report))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"shiprail scan on {ROOT.name}: {rows[0][3]['files']} files, {os.cpu_count()} cores")
    print(f"  {'run':<20} {'seconds':>8} {'exit':>5} {'findings':>9}")
    for name, seconds, code, report in rows:
        findings = report["summary"]["findings"]  # type: ignore[index]
        print(f"  {name:<20} {seconds:>8.1f} {code:>5} {findings:>9}")
    print(f"  warm/cold {warm / cold:.1%}; parallel speed-up over sequential {seq / cold:.2f}x")
    per_tool = {
        s["name"]: s["seconds"]  # type: ignore[index]
        for s in rows[2][3]["scanners"]  # type: ignore[union-attr]
        if s["status"] == "ran"  # type: ignore[index]
    }
    print("  per scanner (sequential): " + ", ".join(f"{k} {v}s" for k, v in per_tool.items()))
    out = ROOT / "reports" / "bench-scan.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "files": rows[0][3]["files"],
                "cores": os.cpu_count(),
                "cold_seconds": round(cold, 2),
                "warm_seconds": round(warm, 2),
                "sequential_seconds": round(seq, 2),
                "per_scanner_sequential": per_tool,
            },
            indent=2,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
