"""A console over a real SQLite ledger and the engine on its fake platform (the deploy
target is not what these tests are about), with four accounts whose passwords are made at
run time: alice (deployer), bob and carol (approvers), vic (viewer)."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path

import pytest
from deploy.conftest import World, fast_env
from fastapi.testclient import TestClient

from shiprail.config import ShiprailConfig
from shiprail.console.app import create_app
from shiprail.console.auth import hash_password
from shiprail.console.store import ConsoleStore, Role
from shiprail.deploy.settings import WatchConfig

ACCOUNTS = {
    "alice": Role.deployer,
    "bob": Role.approver,
    "carol": Role.approver,
    "vic": Role.viewer,
}


def console_config(watch_seconds: float = 6) -> ShiprailConfig:
    watch = WatchConfig(window_seconds=watch_seconds, interval_seconds=1)
    return ShiprailConfig(
        environments={
            "dev": fast_env(watch=watch),
            "stage": fast_env(watch=watch, requires_approvals=1),
            "prod": fast_env(watch=watch, requires_approvals=2),
        }
    )


def scan_report() -> dict[str, object]:
    """A small report in the shape ``shiprail scan`` writes (reports/scan.json)."""
    finding = {
        "tool": "bandit", "rule": "B602", "severity": "high", "category": "sast",
        "path": "shiprail/src/shiprail/_subprocess.py", "line": 3, "state": "open",
        "message": "subprocess call", "blocking": True,
    }  # fmt: skip
    low = {**finding, "rule": "B404", "severity": "low", "state": "waived", "blocking": False}
    return {
        "started": "2026-11-30T10:00:00+00:00", "files": 10, "threshold": "high",
        "passed": False, "findings": [finding, low],
        "summary": {"findings": 2, "blocking": 1, "open_by_severity": {"high": 1}},
    }  # fmt: skip


@dataclass
class Console:
    world: World
    store: ConsoleStore
    passwords: dict[str, str]
    reports: Path
    root: Path

    def app(self, *, https: bool = False):  # type: ignore[no-untyped-def]
        return create_app(
            self.world.engine.config,
            self.world.ledger,
            reports=self.reports,
            root=self.root,
            commit_times=lambda shas: {},
            https=https,
        )

    def client(self) -> TestClient:
        return TestClient(self.app(), base_url="https://testserver", follow_redirects=False)

    def login(self, client: TestClient, name: str, password: str | None = None) -> int:
        form = client.get("/login")
        token = form.cookies.get("shiprail_login_csrf") or client.cookies.get("shiprail_login_csrf")
        response = client.post(
            "/login",
            data={"username": name, "password": password or self.passwords[name],
                  "csrf_token": token or ""},
        )  # fmt: skip
        return response.status_code

    def csrf(self, name: str) -> str:
        row = self.store.engine.connect().exec_driver_sql(
            "SELECT csrf_token FROM console_sessions WHERE username = ? ORDER BY created_at DESC",
            (name,),
        )
        return str(row.first()[0])


def make_console(tmp_path: Path, config: ShiprailConfig) -> Console:
    world = World(tmp_path, config)
    store = ConsoleStore(world.ledger)
    passwords = {name: secrets.token_urlsafe(16) for name in ACCOUNTS}
    for name, role in ACCOUNTS.items():
        store.add_user(name, hash_password(passwords[name]), role)
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "scan.json").write_text(json.dumps(scan_report()))
    root = Path(__file__).resolve().parents[3]
    return Console(world, store, passwords, reports, root)


@pytest.fixture
def console(tmp_path: Path) -> Console:
    return make_console(tmp_path, console_config())
