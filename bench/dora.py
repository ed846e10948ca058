"""``make bench`` (DORA part): compute the four keys over 100,000 ledger rows, under 2 s.

Fills a temporary SQLite ledger with a busy prod history — deploys, automatic and manual
rollbacks, aborted canaries, incidents, spread over the 90-day default period, their commits
taken from this repository — using bulk inserts on the ledger's own tables, then times
``dora_report`` as ``shiprail dora`` runs it (git asked for the commit times, once). Prints
the figure; exits 1 when it is over the budget.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from shiprail.deploy.ledger import Ledger
from shiprail.deploy.records import attempts, incidents, releases
from shiprail.observe.dora import dora_report
from shiprail.observe.dora.commits import GitCommitTimes

ROOT = Path(__file__).resolve().parent.parent
ROWS = 100_000
BUDGET_SECONDS = 2.0
ENV = "prod"


def commits() -> list[str]:
    out = subprocess.run(
        ["git", "-C", str(ROOT), "log", "-n", "200", "--format=%H"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return out.split() or ["0" * 40]


def history(now: datetime, shas: list[str]) -> tuple[list[dict], list[dict], list[dict]]:
    """Release, attempt and incident rows adding up to ROWS, oldest first."""
    rels: list[dict] = []
    atts: list[dict] = []
    incs: list[dict] = []
    step = timedelta(days=89) / (ROWS // 3)
    at = now - timedelta(days=89)
    live = None
    i = 0
    while len(rels) + len(atts) + len(incs) < ROWS:
        i += 1
        rid = f"r{i:07d}"
        rels.append({"id": rid, "environment": ENV, "image": f"workorders:{i}",
                     "image_digest": "sha256:" + "0" * 64, "git_sha": shas[i % len(shas)],
                     "created_by": "bench", "created_at": at, "colour": "blue",
                     "status": "retired", "live_at": at + timedelta(seconds=90)})  # fmt: skip
        done = at + timedelta(seconds=90)
        kind = "aborted" if i % 25 == 0 else ("failed" if i % 20 == 0 else "succeeded")
        atts.append({"environment": ENV, "release_id": rid, "action": "deploy", "actor": "bench",
                     "status": kind, "started_at": at, "finished_at": done})  # fmt: skip
        if kind == "failed" and live:
            auto = {"actor": "shiprail (automatic)", "status": "succeeded", "cause": "watch"}
            end = done + timedelta(seconds=5)
            atts.append({"environment": ENV, "release_id": live, "action": "rollback", **auto,
                         "started_at": done, "finished_at": end})  # fmt: skip
        elif kind == "succeeded":
            if i % 10 == 0 and live:
                back = done + timedelta(minutes=20)
                end = back + timedelta(seconds=30)
                atts.append({"environment": ENV, "release_id": live, "action": "rollback",
                             "actor": "bench", "status": "succeeded", "cause": "manual",
                             "started_at": back, "finished_at": end})  # fmt: skip
            else:
                live = rid
        if i % 30 == 0:
            opened, resolved = done + timedelta(minutes=5), done + timedelta(minutes=50)
            incs.append({"environment": ENV, "release_id": rid, "summary": "bench",
                         "opened_by": "bench", "opened_at": opened,
                         "resolved_by": "bench", "resolved_at": resolved})  # fmt: skip
        at += step
    return rels, atts, incs


def main() -> int:
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as tmp:
        ledger = Ledger(f"sqlite:///{Path(tmp) / 'state.db'}")
        ledger.migrate()
        rels, atts, incs = history(now, commits())
        with ledger.engine.begin() as connection:
            connection.execute(releases.insert(), rels)
            connection.execute(attempts.insert(), atts)
            connection.execute(incidents.insert(), incs)
        total = len(rels) + len(atts) + len(incs)
        began = time.perf_counter()
        report = dora_report(ledger, ENV, commit_times=GitCommitTimes(ROOT), now=now)
        seconds = time.perf_counter() - began
        ledger.engine.dispose()
    rate = report.metric("change_failure_rate")
    verdict = "ok" if seconds < BUDGET_SECONDS else f"OVER the {BUDGET_SECONDS:.0f} s budget"
    print(f"dora: {total} ledger rows ({len(rels)} releases, {len(atts)} attempts, "
          f"{len(incs)} incidents): computed in {seconds:.2f} s ({verdict})")  # fmt: skip
    lead = report.metric("lead_time")
    print(f"dora: {rate.details['deployments']} deployments, change failure rate "
          f"{rate.shown()}, lead time {lead.shown()} ({lead.details['skewed']} commits dated "
          "after their deploy: this history is older than the repository's commits)")  # fmt: skip
    return 0 if seconds < BUDGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
