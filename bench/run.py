"""``make bench``: workorders under load with wrk, on SQLite and on PostgreSQL.

For each worker count (1 and 2, ``BENCH_WORKERS``) and each database: list (GET, 20 items
a page, over 500 seeded orders) and create (POST); and ``/health`` of workorders beside a bare
FastAPI app with the same handler, so the cost of our middleware is a ratio. Then list latency
as the data grows (500, 50,000 and 500,000 orders, ``BENCH_SIZES``): the first page and a
page from the middle (a cursor), which keyset pagination keeps flat.

Servers run ``workorders serve`` (the container's command) on loopback; wrk shares the
machine's cores, so compare figures from the same run, not across machines. The targets are
ratios to the bare app's /health in the same run. Writes ``reports/bench.json``, prints tables.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent))

import seed  # bench/ is not a package: found through sys.path

ROOT = Path(__file__).resolve().parent.parent
LUA = Path(__file__).with_name("report.lua")
DURATION = os.environ.get("BENCH_DURATION", "10s")
SIZES_DURATION = os.environ.get("BENCH_SIZES_DURATION", "5s")
CONNECTIONS = os.environ.get("BENCH_CONNECTIONS", "16")
WORKER_COUNTS = [int(n) for n in os.environ.get("BENCH_WORKERS", "1,2").split(",")]
SIZES = [int(n) for n in os.environ.get("BENCH_SIZES", "500,50000,500000").split(",")]
SEED_ORDERS = 500
HEALTH_ROUNDS = 3
TOKEN = uuid.uuid4().hex
BODY = json.dumps(
    {"property_ref": "BENCH-1", "category": "hvac", "priority": "high", "title": "Bench order"}
)
#: Targets from the issue, as ratios to the bare app's /health rps in the same run.
TARGETS = {"health": 0.85, "list": 0.30, "create": 0.20}
CREATE_P99_MS = 100.0

#: The service as it runs in stage and prod: no dev-only fault hooks, a JSON log line per
#: request (to /dev/null here), metrics and tracing on.
PRODUCTION_LIKE = {
    "WORKORDERS_ENV": "stage",
    "WORKORDERS_API_TOKEN_HASHES": hashlib.sha256(TOKEN.encode()).hexdigest(),
    "WORKORDERS_LOG_LEVEL": "INFO",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _command(app: str, port: int, workers: int) -> list[str]:
    if app == "workorders":
        return [sys.executable, "-m", "workorders.cli", "serve", "--port", str(port),
                "--workers", str(workers)]  # fmt: skip
    return [sys.executable, "-m", "uvicorn", "--factory", app, "--port", str(port),
            "--workers", str(workers), "--no-access-log"]  # fmt: skip


@contextmanager
def serve(app: str, env: dict[str, str], workers: int = 1):
    """Run ``workorders serve`` (or uvicorn for the bare ``app``) until the block ends."""
    port = free_port()
    process = subprocess.Popen(
        _command(app, port, workers),
        env={**os.environ, **env, "PYTHONPATH": str(ROOT / "bench")},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(f"{base}/health", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        time.sleep(0.5 if workers > 1 else 0)  # let every worker start listening
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def wrk(url: str, duration: str = DURATION, **env: str) -> dict[str, float]:
    result = subprocess.run(
        ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{duration}", "-s", str(LUA), url],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    line = [row for row in result.stdout.splitlines() if row.startswith("{")][-1]
    return json.loads(line)


def postgres_database(server_url: str) -> str:
    name = f"bench_{uuid.uuid4().hex[:8]}"
    engine = create_engine(
        server_url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return server_url.rsplit("/", 1)[0] + f"/{name}"


def databases(scratch: str) -> dict[str, str]:
    """A fresh, migrated database of each kind (PostgreSQL when the test server is set)."""
    from workorders import migrate

    found = {"sqlite": f"sqlite:///{scratch}/bench.db"}
    server = os.environ.get("SHIPRAIL_TEST_POSTGRES_URL")
    if server:
        found["postgres"] = postgres_database(server)
    else:
        print("bench: SHIPRAIL_TEST_POSTGRES_URL not set; PostgreSQL skipped", file=sys.stderr)
    for url in found.values():
        migrate.upgrade(url)
        seed.grow(url, SEED_ORDERS)
    return found


def load(workers: int, urls: dict[str, str], scratch: str) -> dict[str, dict[str, float]]:
    """list and create on each database, and /health of workorders and the bare app."""
    results: dict[str, dict[str, float]] = {}
    for label, url in urls.items():
        env = {**PRODUCTION_LIKE, "WORKORDERS_DATABASE_URL": url}
        with serve("workorders", env, workers) as base:
            results[f"{label} list"] = wrk(f"{base}/api/v1/workorders?limit=20")
            results[f"{label} create"] = wrk(
                f"{base}/api/v1/workorders", BENCH_BODY=BODY, BENCH_TOKEN=TOKEN
            )
    results.update(health(workers, scratch))
    return results


def health(workers: int, scratch: str) -> dict[str, dict[str, float]]:
    """/health of workorders and of the bare app, taking turns, the median of each.

    Both servers run at once and wrk alternates between them (``HEALTH_ROUNDS`` turns of a
    third of ``DURATION`` each), so a burst of other work on the machine hits both sides
    alike instead of skewing the ratio the way one run after the other would.
    """
    env = {**PRODUCTION_LIKE, "WORKORDERS_DATABASE_URL": f"sqlite:///{scratch}/health.db"}
    seconds = max(1, int(DURATION.rstrip("s")) // HEALTH_ROUNDS)
    runs: dict[str, list[dict[str, float]]] = {"workorders /health": [], "bare FastAPI /health": []}
    with (
        serve("workorders", env, workers) as ours,
        serve("bare_app:create_app", {}, workers) as bare,
    ):
        for _ in range(HEALTH_ROUNDS):
            runs["workorders /health"].append(wrk(f"{ours}/health", f"{seconds}s"))
            runs["bare FastAPI /health"].append(wrk(f"{bare}/health", f"{seconds}s"))
    return {
        name: sorted(rows, key=lambda row: row["rps"])[len(rows) // 2]
        for name, rows in runs.items()
    }


def growth(urls: dict[str, str]) -> dict[str, dict[str, float]]:
    """List latency at each data size: the first page and a page from the middle."""
    results: dict[str, dict[str, float]] = {}
    for label, url in urls.items():
        env = {**PRODUCTION_LIKE, "WORKORDERS_DATABASE_URL": url}
        for size in SIZES:
            started = time.perf_counter()
            seed.grow(url, size)
            seeded_in = time.perf_counter() - started
            with serve("workorders", env, 1) as base:
                page = f"{base}/api/v1/workorders?limit=20"
                first = wrk(page, SIZES_DURATION)
                deep = wrk(f"{page}&cursor={seed.middle_cursor(size)}", SIZES_DURATION)
            results[f"{label} {size}"] = {
                "rows": seed.count(url),
                "seed_seconds": round(seeded_in, 1),
                **{f"first_{k}": v for k, v in first.items()},
                **{f"deep_{k}": v for k, v in deep.items()},
            }
    return results


def _errors(row: dict[str, float], prefix: str = "") -> int:
    return int(row[f"{prefix}socket_errors"] + row[f"{prefix}non_2xx"])


def print_load(workers: int, results: dict[str, dict[str, float]]) -> list[str]:
    """The load table for one worker count, and the targets it misses."""
    print(f"\n{workers} worker(s)")
    print(f"{'scenario':24} {'rps':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for name, row in results.items():
        print(
            f"{name:24} {row['rps']:8.1f} {row['p50_ms']:8.2f} {row['p95_ms']:8.2f}"
            f" {row['p99_ms']:8.2f} {_errors(row):7d}"
        )
    bare = results["bare FastAPI /health"]["rps"]
    checks = [("health", "workorders /health", results["workorders /health"])]
    for name, row in results.items():
        for kind in ("list", "create"):
            if name.endswith(f" {kind}"):
                checks.append((kind, name, row))
    missed = []
    for kind, name, row in checks:
        ratio = row["rps"] / bare
        verdict = "ok" if ratio >= TARGETS[kind] else "MISSED"
        print(f"  {name}: {ratio:.2f}x bare /health rps (target >= {TARGETS[kind]}): {verdict}")
        if verdict != "ok":
            missed.append(f"{workers}w {name} ratio")
        if kind == "create" and row["p99_ms"] > CREATE_P99_MS:
            print(f"  {name}: p99 {row['p99_ms']:.0f} ms (target <= {CREATE_P99_MS:.0f}): MISSED")
            missed.append(f"{workers}w {name} p99")
    return missed


def print_growth(results: dict[str, dict[str, float]]) -> None:
    print("\nlist latency as data grows (1 worker; first page / page from the middle)")
    print(f"{'database rows':24} {'seed s':>7} {'p50 ms':>8} {'p99 ms':>8} {'deep p50':>9}"
          f" {'deep p99':>9} {'rps':>8}")  # fmt: skip
    for name, row in results.items():
        print(
            f"{name:24} {row['seed_seconds']:7.1f} {row['first_p50_ms']:8.2f}"
            f" {row['first_p99_ms']:8.2f} {row['deep_p50_ms']:9.2f} {row['deep_p99_ms']:9.2f}"
            f" {row['first_rps']:8.1f}"
        )


def main() -> int:
    report: dict[str, object] = {"targets": TARGETS, "create_p99_ms": CREATE_P99_MS}
    failed = False
    missed: list[str] = []
    with tempfile.TemporaryDirectory() as scratch:
        urls = databases(scratch)
        for workers in WORKER_COUNTS:
            results = load(workers, urls, scratch)
            report[f"workers_{workers}"] = results
            missed += print_load(workers, results)
            failed |= any(_errors(row) for row in results.values())
        sizes = growth(urls)
        report["list_by_size"] = sizes
        print_growth(sizes)
        failed |= any(_errors(row, "first_") + _errors(row, "deep_") for row in sizes.values())
    report["missed_targets"] = missed
    out = ROOT / "reports" / "bench.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(f"\ntargets missed: {', '.join(missed) or 'none'}")
    print(f"written: {out.relative_to(ROOT)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
