"""The console through its HTTP interface (Starlette's test client over the real app and a
real SQLite ledger): sign-in, lock-out, CSRF, roles, four eyes, N approvers, every page."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from shiprail.cli import app as cli
from shiprail.console.server import check_listen
from shiprail.console.settings import ConsoleConfig
from shiprail.deploy import approvals
from shiprail.errors import ApprovalPending, Refused, UsageError

from .conftest import Console


def _pending_stage(console: Console) -> str:
    """alice deploys v1 to dev and asks for its promotion to stage; the release id."""
    dev = console.world.engine.deploy("dev", "workorders:v1")
    with pytest.raises(ApprovalPending):
        console.world.engine.promote("dev", "stage")
    return dev.id


def test_pages_need_a_session(console: Console) -> None:
    client = console.client()
    for path in ("/", "/approvals", "/findings", "/dora", "/environments/dev"):
        response = client.get(path)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")
    assert client.post("/approvals/stage/r1/approve", data={"reason": "x"}).status_code == 303


def test_sign_in_sets_a_hardened_session_cookie(console: Console) -> None:
    client = console.client()
    assert console.login(client, "bob") == 303
    cookie = client.cookies.jar
    session = next(c for c in cookie if c.name == "shiprail_session")
    assert session.secure and session.has_nonstandard_attr("HttpOnly")
    page = client.get("/")
    assert page.status_code == 200
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert page.headers["x-frame-options"] == "DENY"


def test_wrong_passwords_lock_the_account_out(console: Console) -> None:
    client = console.client()
    limit = console.world.engine.config.console.max_login_failures
    for _ in range(limit):
        assert console.login(client, "bob", "wrong-password-123") == 403
    assert console.login(client, "bob") == 403, "the right password is refused while locked"
    client.get("/login")
    locked = client.post(
        "/login",
        data={"username": "bob", "password": console.passwords["bob"],
              "csrf_token": client.cookies.get("shiprail_login_csrf") or ""},
    )  # fmt: skip
    assert locked.status_code == 403 and "locked until" in locked.text
    assert console.login(client, "carol") == 403, "the address is locked out as well"
    page = client.post("/login", data={"username": "bob", "password": "x", "csrf_token": "y"})
    assert page.status_code == 403, "a login without its CSRF cookie is refused"


def test_login_form_without_its_csrf_token_is_refused(console: Console) -> None:
    client = console.client()
    client.get("/login")
    data = {"username": "bob", "password": console.passwords["bob"]}
    assert client.post("/login", data=data).status_code == 403


def test_approver_approves_and_the_promotion_goes_through(console: Console) -> None:
    release = _pending_stage(console)
    client = console.client()
    console.login(client, "bob")
    page = client.get("/approvals")
    assert release in page.text and ">Approve</button>" in page.text
    response = client.post(
        f"/approvals/stage/{release}/approve",
        data={"reason": "QA passed", "csrf_token": console.csrf("bob")},
    )
    assert response.status_code == 303
    stage = console.world.engine.promote("dev", "stage")
    assert stage.status == "live" and stage.source_release == release
    audit = console.store.audit()
    assert audit[0].account == "bob" and audit[0].action == "approve"
    history = client.get("/environments/stage").text
    assert "succeeded" in history and "approved by bob" in history


def test_viewer_sees_no_button_and_is_refused(console: Console) -> None:
    release = _pending_stage(console)
    client = console.client()
    console.login(client, "vic")
    assert ">Approve</button>" not in client.get("/approvals").text
    response = client.post(
        f"/approvals/stage/{release}/approve",
        data={"reason": "looks fine", "csrf_token": console.csrf("vic")},
    )
    assert response.status_code == 403
    assert approvals.approvals_of(console.world.ledger, "stage", release) == []


def test_forged_post_without_csrf_token_is_refused(console: Console) -> None:
    release = _pending_stage(console)
    client = console.client()
    console.login(client, "bob")
    response = client.post(f"/approvals/stage/{release}/approve", data={"reason": "forged"})
    assert response.status_code == 403
    wrong = client.post(
        f"/approvals/stage/{release}/approve", data={"reason": "forged", "csrf_token": "guess"}
    )
    assert wrong.status_code == 403
    assert approvals.approvals_of(console.world.ledger, "stage", release) == []


def test_deployer_cannot_approve_own_release_in_console_or_cli(console: Console) -> None:
    release = _pending_stage(console)
    client = console.client()
    console.login(client, "alice")
    response = client.post(
        f"/approvals/stage/{release}/approve",
        data={"reason": "mine", "csrf_token": console.csrf("alice")},
    )
    assert response.status_code == 403 and "four eyes" in response.text
    with pytest.raises(Refused, match="four eyes"):
        console.world.engine.approve("stage", release, "mine, from the command line")
    assert console.store.audit()[0].action == "approve-refused"


def test_prod_needs_two_distinct_approvers_and_not_the_promoter(console: Console) -> None:
    release = _pending_stage(console)
    approvals.approve(console.world.ledger, "stage", release, "bob", "QA")
    stage = console.world.engine.promote("dev", "stage")
    with pytest.raises(ApprovalPending):
        console.world.engine.promote("stage", "prod")
    approvals.approve(console.world.ledger, "prod", stage.id, "bob", "CAB 1")
    again = approvals.approve(console.world.ledger, "prod", stage.id, "bob", "twice")
    assert again.reason == "CAB 1", "one approver counts once"
    with pytest.raises(ApprovalPending, match="1 of 2"):
        console.world.engine.promote("stage", "prod")
    approvals.approve(console.world.ledger, "prod", stage.id, "carol", "CAB 2")
    assert console.world.engine.promote("stage", "prod").status == "live"


def test_rejection_stops_the_promotion(console: Console) -> None:
    release = _pending_stage(console)
    client = console.client()
    console.login(client, "carol")
    response = client.post(
        f"/approvals/stage/{release}/reject",
        data={"reason": "fails the load test", "csrf_token": console.csrf("carol")},
    )
    assert response.status_code == 303
    assert release not in client.get("/approvals").text
    with pytest.raises(Refused, match="rejected"):
        console.world.engine.promote("dev", "stage")
    with pytest.raises(Refused, match="rejected"):
        approvals.approve(console.world.ledger, "stage", release, "bob", "anyway")


def test_every_page_renders(console: Console) -> None:
    release = _pending_stage(console)
    client = console.client()
    console.login(client, "vic")
    assert "dev" in client.get("/").text
    assert release in client.get(f"/releases/{release}").text
    findings = client.get("/findings?severity=high").text
    assert "B602" in findings and "B404" not in findings
    source = client.get("/findings/source?path=shiprail/src/shiprail/_subprocess.py&line=3")
    assert source.status_code == 200 and 'id="L3"' in source.text
    assert client.get("/findings/source?path=pyproject.toml&line=1").status_code == 404
    dora = client.get("/dora").text
    assert "<svg" in dora and "deployments per week" in dora
    assert client.get("/releases/r-missing").status_code == 404
    fragment = client.get("/", headers={"HX-Request": "true"}).text
    assert "<html" not in fragment and 'hx-trigger="every 2s"' in fragment


def test_console_refuses_plain_http_beyond_loopback(console: Console) -> None:
    with pytest.raises(UsageError, match="plain HTTP"):
        check_listen(ConsoleConfig(), "0.0.0.0", console.root)
    check_listen(ConsoleConfig(), "127.0.0.1", console.root)
    check_listen(ConsoleConfig(), "172.18.0.1", console.root, published=True)
    with pytest.raises(UsageError, match="does not exist"):
        check_listen(
            ConsoleConfig(tls_cert_file="nope.pem", tls_key_file="nope.key"),
            "0.0.0.0",
            console.root,
        )


def test_console_edge_config_is_validated(tmp_path: Path) -> None:
    from shiprail.console.server import uvicorn_options

    edge = {"hostname": "console.example.org", "port": 8443}
    assert ConsoleConfig.model_validate({"edge": edge}).edge is not None
    with pytest.raises(ValueError, match="not both"):
        ConsoleConfig.model_validate({"edge": edge, "tls_cert_file": "c", "tls_key_file": "k"})
    with pytest.raises(ValueError, match="nginx only"):
        ConsoleConfig.model_validate({"edge": {**edge, "router": "traefik"}})
    with pytest.raises(ValueError, match="own sign-in"):
        ConsoleConfig.model_validate({"edge": {**edge, "basic_auth": {"htpasswd_file": "h"}}})
    # forwarded headers are believed from the edge's network only, never on loopback
    assert uvicorn_options(ConsoleConfig(), "127.0.0.1", 8090, tmp_path)["proxy_headers"] is False
    behind = uvicorn_options(ConsoleConfig(), "172.18.0.1", 8090, tmp_path, "172.18.0.0/16")
    assert behind["proxy_headers"] is True and behind["forwarded_allow_ips"] == "172.18.0.0/16"


def test_requires_approvals_config_is_validated() -> None:
    from shiprail.deploy.settings import EnvironmentConfig

    assert EnvironmentConfig.model_validate({"requires_approvals": 2}).approvals_needed == 2
    assert EnvironmentConfig.model_validate({"requires_approval": True}).approvals_needed == 1
    assert EnvironmentConfig().approvals_needed == 0
    with pytest.raises(ValueError, match="contradicts"):
        EnvironmentConfig.model_validate({"requires_approval": False, "requires_approvals": 2})


def test_users_commands(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import secrets

    monkeypatch.setenv("SHIPRAIL_DATABASE_URL", f"sqlite:///{tmp_path / 'state.db'}")
    monkeypatch.setenv("SHIPRAIL_ACTOR", "root-admin")
    runner = CliRunner()
    password = secrets.token_urlsafe(16)
    added = runner.invoke(
        cli, ["console", "users", "add", "dana", "--role", "approver", "--password-stdin"],
        input=password + "\n",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    listed = runner.invoke(cli, ["console", "users", "list", "--json"])
    assert '"dana"' in listed.stdout and '"approver"' in listed.stdout
    twice = runner.invoke(
        cli, ["console", "users", "add", "dana", "--password-stdin"], input=password + "\n"
    )
    assert twice.exit_code == 2
    short = runner.invoke(cli, ["console", "users", "add", "eve", "--password-stdin"], input="x\n")
    assert short.exit_code == 2
    assert runner.invoke(cli, ["console", "users", "remove", "dana"]).exit_code == 0
    assert runner.invoke(cli, ["console", "users", "remove", "dana"]).exit_code == 2


def test_shiprail_console_serves_and_refuses_open_plain_http(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The command itself: refused on 0.0.0.0 without TLS (exit 2), serving on loopback."""
    import os
    import socket
    import subprocess
    import sys

    import httpx

    from conftest import wait_until

    env = {**os.environ, "SHIPRAIL_DATABASE_URL": f"sqlite:///{tmp_path / 'state.db'}"}
    refused = subprocess.run(
        [sys.executable, "-m", "shiprail.cli", "console", "--host", "0.0.0.0"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert refused.returncode == 2 and "plain HTTP" in refused.stderr
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "shiprail.cli", "console", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip

    def up() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/login", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(up, 60, what="shiprail console answering")
        page = httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
        assert page.status_code == 303 and page.headers["location"].startswith("/login")
    finally:
        server.terminate()
        server.wait(10)
