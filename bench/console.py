"""``make bench`` (console part): render time of each console page with 10,000 releases.

Fills a temporary SQLite ledger with 10,000 releases and their attempts over three
environments (dev, stage, prod: promotions, automatic rollbacks, pending approvals), signs in
an account through the login form, then requests each page through the real application
(Starlette's in-process client, so the figure is the console's own time, not the network's)
and prints the median and the worst of several renders per page. Exits 1 when a page's median
is over the budget.
"""

from __future__ import annotations

import secrets
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from shiprail.config import ShiprailConfig
from shiprail.console.app import create_app
from shiprail.console.auth import hash_password
from shiprail.console.store import ConsoleStore, Role
from shiprail.deploy.ledger import Ledger
from shiprail.deploy.records import attempts, releases
from shiprail.deploy.settings import default_environments

ROOT = Path(__file__).resolve().parent.parent
RELEASES = 10_000
BUDGET_MS = 200.0
RENDERS = 15
ENVIRONMENTS = ("dev", "stage", "prod")


def rows(now: datetime) -> tuple[list[dict], list[dict]]:
    """Releases (one in three live history per environment) and their attempts."""
    rels: list[dict] = []
    atts: list[dict] = []
    at = now - timedelta(days=80)
    step = timedelta(days=79) / RELEASES
    for i in range(RELEASES):
        env = ENVIRONMENTS[i % 3]
        last = i >= RELEASES - 3
        rid = f"r{i:07d}"
        rels.append({"id": rid, "environment": env, "image": f"workorders:{i}",
                     "image_digest": "sha256:" + f"{i:064x}", "git_sha": f"{i:040x}",
                     "created_by": "alice", "created_at": at, "colour": "blue",
                     "status": "live" if last else "retired",
                     "live_at": at + timedelta(seconds=60),
                     "source_release": f"r{i - 1:07d}" if env != "dev" and i else None,
                     })  # fmt: skip
        failed = i % 17 == 0
        atts.append({"environment": env, "release_id": rid,
                     "action": "promote" if env != "dev" else "deploy", "actor": "alice",
                     "status": "failed" if failed else "succeeded",
                     "cause": "watch: 5xx ratio 0.4 > 0.05" if failed else None,
                     "started_at": at, "finished_at": at + timedelta(seconds=60)})  # fmt: skip
        if i % 50 == 0:
            atts.append({"environment": "prod", "release_id": rid, "action": "promote",
                         "actor": "alice", "status": "awaiting-approval", "cause": None,
                         "started_at": at, "finished_at": at})  # fmt: skip
        at += step
    return rels, atts


def seeded(directory: Path) -> tuple[Ledger, str]:
    ledger = Ledger(f"sqlite:///{directory / 'state.db'}")
    ledger.migrate()
    rels, atts = rows(datetime.now(UTC))
    with ledger.engine.begin() as connection:
        connection.execute(releases.insert(), rels)
        connection.execute(attempts.insert(), atts)
    password = secrets.token_urlsafe(16)
    ConsoleStore(ledger).add_user("bench", hash_password(password), Role.approver)
    return ledger, password


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="shiprail-bench-console-") as work:
        ledger, password = seeded(Path(work))
        config = ShiprailConfig(environments=default_environments())
        app = create_app(config, ledger, reports=ROOT / "reports", root=ROOT,
                         commit_times=lambda shas: {})  # fmt: skip
        client = TestClient(app, base_url="https://testserver")
        client.get("/login")
        token = client.cookies.get("shiprail_login_csrf") or ""
        client.post("/login", data={"username": "bench", "password": password,
                                    "csrf_token": token})  # fmt: skip
        release = f"r{RELEASES - 1:07d}"
        pages = ["/", "/environments/prod", f"/releases/{release}", "/approvals", "/findings",
                 "/dora"]  # fmt: skip
        over = []
        print(f"console page render times, {RELEASES:,} releases in the ledger (ms):")
        for path in pages:
            times = []
            for _ in range(RENDERS):
                started = time.perf_counter()
                response = client.get(path)
                times.append((time.perf_counter() - started) * 1000)
                if response.status_code != 200:
                    print(f"  {path}: HTTP {response.status_code}", file=sys.stderr)
                    return 1
            median = statistics.median(times)
            print(f"  {path:<24} median {median:7.1f}   worst {max(times):7.1f}")
            if median > BUDGET_MS:
                over.append(path)
        if over:
            print(f"over the {BUDGET_MS:.0f} ms budget: {', '.join(over)}", file=sys.stderr)
            return 1
        print(f"every page under {BUDGET_MS:.0f} ms (median of {RENDERS})")
        return 0


if __name__ == "__main__":
    sys.exit(main())
