"""End to end in headless Chromium (Debian's ``chromium``, driven by Playwright): sign in, see
a pending promotion, approve it as a second account, watch the deploy reach live on the page
and the history update; a viewer has no button and is refused; a forged POST is refused; the
deploying account cannot approve its own release; a blue/green deploy is followed live, its
smoke checks and watch window on the environments and release pages, until it is live. Each
page is kept as a screenshot in ``reports/console/`` (a CI artifact)."""

from __future__ import annotations

import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from deploy.conftest import World

from shiprail.deploy import progress
from shiprail.deploy.analysis.interface import Limits, Verdict, WatchTarget
from shiprail.deploy.engine import Engine
from shiprail.errors import ApprovalPending
from shiprail.paths import repo_root

from .conftest import Console, console_config, make_console
from conftest import unavailable, wait_until

SHOTS = repo_root() / "reports" / "console"


def _browser_path() -> str:
    """Debian's chromium (tools.lock); on hosts whose apt has none (GitHub's Ubuntu runners,
    where chromium is a snap) the Google Chrome those runners come with."""
    found = shutil.which("chromium") or shutil.which("google-chrome")
    if found is None:
        unavailable("Debian's chromium is not installed (scripts/install-tools.sh chromium)")
    return found


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Console, str]]:
    console = make_console(tmp_path, console_config(watch_seconds=4))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(console.app(), host="127.0.0.1", port=port,
                                           log_level="warning"))  # fmt: skip
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, 30, what="the console listening")
    yield console, f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def _real_time(world: World) -> Engine:
    """alice's engine with a real clock, so the watch window takes seconds to watch."""
    import time

    engine = world.engine
    engine.sleep, engine.clock = time.sleep, time.monotonic
    return engine


def _sign_in(page, base: str, console: Console, name: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/login")
    page.get_by_label("Account").fill(name)
    page.get_by_label("Password").fill(console.passwords[name])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")


def _accessibility_basics(page) -> None:  # type: ignore[no-untyped-def]
    """One h1; every visible form control has a label."""
    assert page.locator("h1").count() == 1
    unlabelled = page.evaluate(
        "() => [...document.querySelectorAll('input:not([type=hidden]), select')]"
        ".filter(e => e.labels.length === 0).map(e => e.name)"
    )
    assert unlabelled == []


def test_approval_flow_in_the_browser(served: tuple[Console, str]) -> None:
    from playwright.sync_api import expect, sync_playwright

    console, base = served
    engine = _real_time(console.world)
    dev = engine.deploy("dev", "workorders:v1")
    with pytest.raises(ApprovalPending):
        engine.promote("dev", "stage")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=_browser_path(), args=["--no-sandbox"])
        try:
            bob = browser.new_context().new_page()
            _sign_in(bob, base, console, "bob")
            _accessibility_basics(bob)
            bob.screenshot(path=SHOTS / "environments.png", full_page=True)
            bob.goto(f"{base}/approvals")
            expect(bob.get_by_role("heading", name=f"{dev.id} → stage")).to_be_visible()
            _accessibility_basics(bob)
            # keyboard: Tab reaches the reason field and then the Approve button
            reason = bob.get_by_label("Reason")
            for _ in range(20):
                bob.keyboard.press("Tab")
                if reason.evaluate("e => e === document.activeElement"):
                    break
            expect(reason).to_be_focused()
            bob.keyboard.type("QA passed in dev")
            bob.keyboard.press("Tab")
            expect(bob.get_by_role("button", name="Approve")).to_be_focused()
            bob.screenshot(path=SHOTS / "approvals.png", full_page=True)
            bob.keyboard.press("Enter")
            expect(bob.get_by_role("status")).to_contain_text(f"approved {dev.id} for stage")

            bob.goto(f"{base}/environments/stage")
            promotion = threading.Thread(target=engine.promote, args=("dev", "stage"))
            promotion.start()
            expect(bob.locator(".busy")).to_contain_text("deploy in progress", timeout=20_000)
            expect(bob.locator("#live-release")).not_to_have_text("nothing", timeout=30_000)
            promotion.join(30)
            expect(bob.locator(".timeline .event").first).to_contain_text("succeeded")
            expect(bob.locator(".timeline")).to_contain_text("approved by bob")
            bob.screenshot(path=SHOTS / "history.png", full_page=True)
            live = console.world.ledger.live_release("stage")
            assert live is not None and live.source_release == dev.id
            bob.goto(f"{base}/releases/{live.id}")
            expect(bob.locator("#release-facts")).to_contain_text("bob")
            bob.screenshot(path=SHOTS / "release.png", full_page=True)
            for name in ("findings", "dora"):
                bob.goto(f"{base}/{name}")
                _accessibility_basics(bob)
                bob.screenshot(path=SHOTS / f"{name}.png", full_page=True)
        finally:
            browser.close()


def test_refusals_in_the_browser(served: tuple[Console, str]) -> None:
    from playwright.sync_api import expect, sync_playwright

    console, base = served
    dev = console.world.engine.deploy("dev", "workorders:v1")
    with pytest.raises(ApprovalPending):
        console.world.engine.promote("dev", "stage")
    action = f"{base}/approvals/stage/{dev.id}/approve"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=_browser_path(), args=["--no-sandbox"])
        try:
            vic = browser.new_context().new_page()
            _sign_in(vic, base, console, "vic")
            vic.goto(f"{base}/approvals")
            expect(vic.get_by_role("heading", name=f"{dev.id} → stage")).to_be_visible()
            expect(vic.get_by_role("button", name="Approve")).to_have_count(0)
            token = vic.locator("header input[name=csrf_token]").get_attribute("value")
            refused = vic.request.post(action, form={"reason": "ok", "csrf_token": token or ""})
            assert refused.status == 403

            bob = browser.new_context().new_page()
            _sign_in(bob, base, console, "bob")
            forged = bob.request.post(action, form={"reason": "forged"})
            assert forged.status == 403 and "CSRF" in forged.text()

            alice = browser.new_context().new_page()
            _sign_in(alice, base, console, "alice")
            alice.goto(f"{base}/approvals")
            alice.get_by_label("Reason").fill("my own release")
            alice.get_by_role("button", name="Approve").click()
            expect(alice.get_by_role("alert")).to_contain_text("four eyes")
            alice.screenshot(path=SHOTS / "four-eyes-refused.png", full_page=True)
        finally:
            browser.close()
    assert console.world.ledger.approval("stage", dev.id) is None


class Gates:
    """Hold the deploy after its smoke checks (when it announces the switch) and after the
    first look of its watch, until the test has seen that stage in the browser: the page is
    checked at each stage however slow the machine, and no stage is missed between polls."""

    def __init__(self, world: World) -> None:
        self.smoke_seen, self.watch_seen = threading.Event(), threading.Event()
        say, check = world.engine.say, world.analysis.check

        def held_say(message: str) -> None:
            if message.startswith("switching the edge proxy"):
                self.smoke_seen.wait(120)
            say(message)

        def held_check(target: WatchTarget, limits: Limits) -> Verdict:
            verdict = check(target, limits)
            if world.analysis.checks > 1:
                self.watch_seen.wait(120)
            return verdict

        world.engine.say = held_say
        world.analysis.check = held_check  # type: ignore[method-assign]

    def release(self) -> None:
        self.smoke_seen.set()
        self.watch_seen.set()


def test_a_blue_green_deploy_followed_live(served: tuple[Console, str]) -> None:
    from playwright.sync_api import expect, sync_playwright

    console, base = served
    engine = _real_time(console.world)
    gates = Gates(console.world)
    deploy = threading.Thread(target=engine.deploy, args=("dev", "workorders:v2"))
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=_browser_path(), args=["--no-sandbox"])
        try:
            bob = browser.new_context().new_page()
            _sign_in(bob, base, console, "bob")
            deploy.start()
            dev = bob.locator("#environments tr", has_text="dev").first
            expect(dev.locator(".rollout .stage")).to_have_text("smoke", timeout=30_000)
            expect(dev.locator(".rollout-detail li")).to_have_count(4, timeout=30_000)
            expect(dev.locator(".rollout-detail")).to_contain_text("GET /health on")
            expect(dev.locator(".rollout-detail")).to_contain_text("GET /ready on")
            expect(dev.locator(".stages [aria-current=step]")).to_have_text("smoke")
            bob.screenshot(path=SHOTS / "deploy-smoke.png", full_page=True)

            rollout = progress.in_progress(console.world.ledger, "dev")
            assert rollout is not None
            bob.goto(f"{base}/releases/{rollout.release_id}")
            section = bob.locator("#release-progress")
            expect(section.locator("#release-status")).to_have_text("pending")
            expect(section.locator(".stage")).to_have_text("smoke")
            gates.smoke_seen.set()
            expect(section.locator(".stage")).to_have_text("watch", timeout=30_000)
            expect(section.locator(".rollout-detail")).to_contain_text(
                "of 4s watched", timeout=30_000
            )
            expect(section.locator(".rollout-detail")).to_contain_text("error ratio 0.00%")
            expect(section.locator(".rollout-detail")).to_contain_text("p95 10 ms")
            bob.screenshot(path=SHOTS / "deploy-watch.png", full_page=True)
            gates.watch_seen.set()
            expect(section.locator("#release-status")).to_have_text("live", timeout=60_000)
            expect(section.locator(".rollout-summary")).to_contain_text("promoted")
            bob.screenshot(path=SHOTS / "deploy-live.png", full_page=True)
        finally:
            gates.release()
            deploy.join(60)
            browser.close()
    live = console.world.ledger.live_release("dev")
    assert live is not None and live.id == rollout.release_id
