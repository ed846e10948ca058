"""``make bench``: workorders under load with wrk, on SQLite and on PostgreSQL.

For each database: list (GET, 20 items a page, over 500 seeded orders) and create (POST).
In the same run, a bare FastAPI app answers the same /health handler as workorders, so the
cost of our middleware is a ratio. Servers run one uvicorn worker on loopback; wrk shares
the machine's cores, so compare figures from the same run, not across machines.
Writes ``reports/bench.json`` and prints a table.
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

ROOT = Path(__file__).resolve().parent.parent
LUA = Path(__file__).with_name("report.lua")
DURATION = os.environ.get("BENCH_DURATION", "10s")
CONNECTIONS = os.environ.get("BENCH_CONNECTIONS", "16")
SEED_ORDERS = 500
TOKEN = uuid.uuid4().hex
BODY = json.dumps(
    {"property_ref": "BENCH-1", "category": "hvac", "priority": "high", "title": "Bench order"}
)


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


@contextmanager
def serve(app: str, env: dict[str, str]):
    """Run uvicorn with one worker for ``app`` (a factory) until the block ends."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", app, "--port", str(port), "--no-access-log"],
        env={**os.environ, **env, "PYTHONPATH": str(ROOT / "bench")},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                httpx.get(f"{base}/health", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)


def wrk(url: str, **env: str) -> dict[str, float]:
    result = subprocess.run(
        ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{DURATION}", "-s", str(LUA), url],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    line = [row for row in result.stdout.splitlines() if row.startswith("{")][-1]
    return json.loads(line)


def seeded(database_url: str, base: str) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=base, headers=headers) as client:
        for n in range(SEED_ORDERS):
            body = {"property_ref": f"P-{n}", "category": "general", "title": f"Seed {n}"}
            client.post("/api/v1/workorders", json=body).raise_for_status()


def postgres_database(server_url: str) -> str:
    name = f"bench_{uuid.uuid4().hex[:8]}"
    engine = create_engine(
        server_url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return server_url.rsplit("/", 1)[0] + f"/{name}"


def bench_database(label: str, database_url: str) -> dict[str, dict[str, float]]:
    from workorders import migrate

    migrate.upgrade(database_url)
    env = {**PRODUCTION_LIKE, "WORKORDERS_DATABASE_URL": database_url}
    with serve("workorders.main:create_app", env) as base:
        seeded(database_url, base)
        results = {
            f"{label} list": wrk(f"{base}/api/v1/workorders?limit=20"),
            f"{label} create": wrk(f"{base}/api/v1/workorders", BENCH_BODY=BODY, BENCH_TOKEN=TOKEN),
        }
    return results


def main() -> int:
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        results.update(bench_database("sqlite", f"sqlite:///{scratch}/bench.db"))
        server = os.environ.get("SHIPRAIL_TEST_POSTGRES_URL")
        if server:
            results.update(bench_database("postgres", postgres_database(server)))
        else:
            print("bench: SHIPRAIL_TEST_POSTGRES_URL not set; PostgreSQL skipped", file=sys.stderr)
        env = {**PRODUCTION_LIKE, "WORKORDERS_DATABASE_URL": f"sqlite:///{scratch}/health.db"}
        with serve("workorders.main:create_app", env) as base:
            results["workorders /health"] = wrk(f"{base}/health")
        with serve("bare_app:create_app", {}) as base:
            results["bare FastAPI /health"] = wrk(f"{base}/health")
    ratio = results["bare FastAPI /health"]["rps"] / results["workorders /health"]["rps"]

    print(f"{'scenario':24} {'rps':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for name, row in results.items():
        errors = int(row["socket_errors"] + row["non_2xx"])
        print(
            f"{name:24} {row['rps']:8.1f} {row['p50_ms']:8.2f} {row['p95_ms']:8.2f}"
            f" {row['p99_ms']:8.2f} {errors:7d}"
        )
    print(f"middleware cost: bare FastAPI serves {ratio:.2f}x the requests of workorders /health")
    out = ROOT / "reports" / "bench.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"results": results, "middleware_ratio": ratio}, indent=2))
    print(f"written: {out.relative_to(ROOT)}")
    failed = any(row["socket_errors"] or row["non_2xx"] for row in results.values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
