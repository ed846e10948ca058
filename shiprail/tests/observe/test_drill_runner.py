"""The drill's runner, scenario and promises, driven in fake time against a simulated stack.

The fake stack behaves like the real one seen from outside: a fault makes the matching
alerts fire, a recovery resolves them, and each notification arrives on its severity's
channels a few (fake) seconds later. No process starts and no real time passes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from observe_support import MONITORING

from shiprail.errors import Refused
from shiprail.observe.drill import DrillResult
from shiprail.observe.drill.compression import Promises, compressed_rule_files
from shiprail.observe.drill.receiver import Notification
from shiprail.observe.drill.runner import POLL_SECONDS, Runner, Timeline
from shiprail.observe.drill.scenario import (
    CHANNELS,
    ENVIRONMENT,
    RELEASE,
    SCENARIO,
    Alert,
    Await,
    Faults,
    Step,
)
from shiprail.observe.slo import load_slos

EMAIL_TO = ["oncall@shiprail.invalid"]
LABELS = {
    "ErrorBudgetBurn": {"slo": "workorders-availability", "burn_window": "page"},
    "ApplicationDown": {"release": RELEASE, "colour": "blue"},
}


class FakeClock:
    """``clock`` and ``sleep`` for the runner: sleeping moves the time forward at once."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@dataclass
class FakeStack:
    """A stack whose alerts follow the injected faults, delivered ``delays`` seconds later."""

    clock: FakeClock
    delays: dict[str, float] = field(default_factory=dict)
    silent: set[tuple[str, str]] = field(default_factory=set)  # (alertname, channel)
    startup_seconds: float = 0.0
    broken_queries: set[str] = field(default_factory=set)
    refused_logins: list[str] = field(default_factory=list)
    runbook_base: str = "https://example.invalid/docs/runbooks"
    mail_login: str = "alertmanager"
    logs: Path = Path("drill-logs")
    sent: list[Notification] = field(default_factory=list)
    queries: list[str] = field(default_factory=list)
    _faults: tuple[float, float] = (0.0, 0.0)
    _running: bool = True
    _active: set[tuple[str, str]] = field(default_factory=set)

    # the runner's interface
    def set_faults(self, error_ratio: float, delay_seconds: float) -> None:
        self._faults = (error_ratio, delay_seconds)
        self._changed()

    def stop_service(self) -> None:
        self._running = False
        self._changed()

    def restart_service(self) -> None:
        self.clock.now += self.startup_seconds
        self._running = True
        self._changed()

    def notifications(self) -> list[Notification]:
        return [n for n in self.sent if n.at <= self.clock.now]

    def failed_logins(self) -> list[str]:
        return list(self.refused_logins)

    def query(self, expr: str) -> None:
        self.queries.append(expr)
        if expr in self.broken_queries:
            raise ValueError(f"bad query {expr}")

    # the simulated alerting
    def _alerts(self) -> set[tuple[str, str]]:
        error_ratio, delay = self._faults
        alerts = set()
        if error_ratio >= 0.5:
            alerts |= {("HighErrorRate", "critical"), ("ErrorBudgetBurn", "critical")}
        if 0.5 <= delay < 1.0:
            alerts.add(("HighResponseTime", "warning"))
        if delay >= 1.0:
            alerts.add(("HighResponseTime", "critical"))
        if not self._running:
            alerts.add(("ApplicationDown", "critical"))
        return alerts

    def _changed(self) -> None:
        now = self._alerts()
        self._notify(now - self._active, "firing")
        self._notify(self._active - now, "resolved")
        self._active = now

    def _notify(self, alerts: Iterable[tuple[str, str]], status: str) -> None:
        for name, severity in alerts:
            for channel in sorted(CHANNELS[severity]):
                if (name, channel) not in self.silent:
                    at = self.clock.now + self.delays.get(name, 5.0)
                    self.sent.append(self.note(at, channel, name, severity, status))

    def note(self, at: float, channel: str, name: str, severity: str, status: str) -> Notification:
        runbook = f"{self.runbook_base}/{name}.md"
        labels = {"severity": severity, "service": "workorders", "environment": ENVIRONMENT}
        payload: dict[str, Any] = {"payload": {"severity": severity}}
        if channel == "email":
            payload = {
                "to": list(EMAIL_TO),
                "login": self.mail_login,
                "html": f'<a href="{runbook}">Runbook</a>',
                "subject": f"[{status.upper()}:1] {name} ({severity})",
            }
        labels.update(LABELS.get(name, {}))
        return Notification(at, channel, name, severity, status, runbook, labels, payload)


@pytest.fixture(scope="module")
def promises() -> Promises:
    """What the committed rules promise at the default compression (60x)."""
    rules = compressed_rule_files(MONITORING, 60)
    return Promises.from_rules(rules.values(), load_slos(MONITORING / "slo"), 60)


def run(
    stack: FakeStack,
    promises: Promises,
    scenario: tuple[Step, ...] = SCENARIO,
    panel_queries: list[tuple[str, str]] | None = None,
) -> DrillResult:
    said: list[str] = []
    timeline = Timeline(clock=stack.clock, say=said.append)
    runner = Runner(
        stack,
        promises,
        timeline=timeline,
        email_to=EMAIL_TO,
        panel_queries=panel_queries or [("red.json: errors", "sum(rate(x[5m]))")],
        clock=stack.clock,
        sleep=stack.clock.sleep,
    )
    result = runner.run(scenario)
    # every event is announced as it happens, and rendered (sorted by time) at the end
    assert sorted(said) == sorted(timeline.render().splitlines())
    return result


def test_the_scenario_reaches_every_expectation_and_renders_the_timeline(
    promises: Promises,
) -> None:
    clock = FakeClock()
    stack = FakeStack(clock, delays={"ErrorBudgetBurn": 3.0, "HighResponseTime": 9.0})
    result = run(stack, promises)

    delivered = [(d["alertname"], d["severity"], d["status"]) for d in result.deliveries]
    assert delivered == [
        ("ErrorBudgetBurn", "critical", "firing"),
        ("HighErrorRate", "critical", "firing"),
        ("HighErrorRate", "critical", "resolved"),
        ("HighResponseTime", "warning", "firing"),
        ("HighResponseTime", "warning", "resolved"),
        ("HighResponseTime", "critical", "firing"),
        ("HighResponseTime", "critical", "resolved"),
        ("ApplicationDown", "critical", "firing"),
        ("ApplicationDown", "critical", "resolved"),
    ]
    seconds = [d["seconds"] for d in result.deliveries]
    assert seconds == [3.0, 5.0, 5.0, 9.0, 9.0, 9.0, 9.0, 5.0, 5.0]
    assert [d["channels"] for d in result.deliveries][:4] == [
        ["pagerduty", "slack"],
        ["pagerduty", "slack"],
        ["pagerduty", "slack"],
        ["email", "slack"],
    ]
    # the baseline lets 10 minutes of compressed time pass: 600s / 60 = 10s
    assert clock.sleeps[0] == 10.0
    assert stack.queries == ["sum(rate(x[5m]))"]
    assert result.timeline.render().splitlines() == [
        "    0.0s  baseline: steady traffic, no faults",
        "   10.0s  baseline: no alert fired",
        "   10.0s  fault: 50% of API requests answer 500",
        "   13.0s  firing   ErrorBudgetBurn (critical) delivered to pagerduty, slack after 3.0s"
        " (promised <= 29s)",
        "   15.0s  firing   HighErrorRate (critical) delivered to pagerduty, slack after 5.0s"
        " (promised <= 34s)",
        "   15.0s  dashboards: 1 panel queries evaluated, 0 errors",
        "   15.0s  recovery: errors cleared; fault: every API request delayed by 0.6s"
        " (p95 above the warning threshold, below the critical)",
        "   20.0s  resolved HighErrorRate (critical) delivered to pagerduty, slack after 5.0s"
        " (promised <= 34s)",
        "   24.0s  firing   HighResponseTime (warning) delivered to email, slack after 9.0s"
        " (promised <= 39s)",
        "   24.0s  recovery: delay removed",
        "   33.0s  resolved HighResponseTime (warning) delivered to email, slack after 9.0s"
        " (promised <= 39s)",
        "   33.0s  fault: every API request delayed by 1.5s",
        "   42.0s  firing   HighResponseTime (critical) delivered to pagerduty, slack after 9.0s"
        " (promised <= 34s)",
        "   42.0s  recovery: delay removed",
        "   51.0s  resolved HighResponseTime (critical) delivered to pagerduty, slack after 9.0s"
        " (promised <= 34s)",
        "   51.0s  fault: workorders stopped",
        "   56.0s  firing   ApplicationDown (critical) delivered to pagerduty, slack after 5.0s"
        " (promised <= 25s)",
        "   56.0s  recovery: workorders restarted and ready",
        "   61.0s  resolved ApplicationDown (critical) delivered to pagerduty, slack after 5.0s"
        " (promised <= 25s)",
        "   61.0s  drill passed",
    ]
    assert result.as_dict()["timeline"][0] == {
        "t": 0.0,
        "event": "baseline: steady traffic, no faults",
    }


def test_a_missing_alert_fails_the_drill_once_its_promise_has_passed(
    promises: Promises,
) -> None:
    clock = FakeClock()
    stack = FakeStack(
        clock,
        silent={("ErrorBudgetBurn", "pagerduty"), ("ErrorBudgetBurn", "slack")},
        refused_logins=["mallory"],
    )
    with pytest.raises(Refused) as caught:
        run(stack, promises)
    message = str(caught.value)
    assert message.startswith(
        "no firing notification for ErrorBudgetBurn (critical) on every channel within the "
        "promised time; received so far: HighErrorRate/firing/pagerduty, "
        "HighErrorRate/firing/slack; the mail relay refused logins as ['mallory']"
    )
    assert "drill-logs" in str(caught.value.hint)
    # the fault began at 10s; the group waits for its longest promise (HighErrorRate, 34s)
    assert 10.0 + 34.0 < clock.now <= 10.0 + 34.0 + POLL_SECONDS


def test_an_alert_missing_on_one_channel_is_not_delivered(promises: Promises) -> None:
    stack = FakeStack(FakeClock(), silent={("ApplicationDown", "pagerduty")})
    with pytest.raises(Refused, match=r"no firing notification for ApplicationDown \(critical\)"):
        run(stack, promises)


def test_a_delivery_later_than_its_own_promise_fails_even_within_the_group_deadline(
    promises: Promises,
) -> None:
    burn = promises.burn("workorders-availability", 0.5)
    assert burn < promises.rule("HighErrorRate", "critical")
    stack = FakeStack(FakeClock(), delays={"ErrorBudgetBurn": burn + 1.0})
    with pytest.raises(Refused, match=r"ErrorBudgetBurn \(critical\) firing arrived after"):
        run(stack, promises)


def test_an_alert_during_the_healthy_baseline_fails(promises: Promises) -> None:
    clock = FakeClock()
    stack = FakeStack(clock)
    stack.sent.append(stack.note(4.0, "slack", "HighErrorRate", "critical", "firing"))
    with pytest.raises(Refused, match="alerts fired while the service was healthy: HighErrorRate"):
        run(stack, promises)


@pytest.mark.parametrize(
    ("stack_options", "message"),
    [
        ({"runbook_base": "https://wiki.invalid/x"}, "links 'https://wiki.invalid/x/"),
        ({"mail_login": ""}, "email was accepted without the SMTP login"),
    ],
)
def test_a_wrong_notification_fails_the_drill(
    promises: Promises, stack_options: dict[str, Any], message: str
) -> None:
    stack = FakeStack(FakeClock(), **stack_options)
    with pytest.raises(Refused, match=message):
        run(stack, promises)


def test_a_failing_dashboard_query_fails_the_drill(promises: Promises) -> None:
    stack = FakeStack(FakeClock(), broken_queries={"bad"})
    queries = [("a.json: ok", "good"), ("b.json: broken", "bad")]
    with pytest.raises(Refused, match=r"dashboard queries failed: b.json: broken: bad query bad"):
        run(stack, promises, panel_queries=queries)


def test_a_restart_is_measured_from_the_moment_the_service_is_ready(
    promises: Promises,
) -> None:
    clock = FakeClock()
    result = run(FakeStack(clock, startup_seconds=7.0), promises)
    resolved = result.deliveries[-1]
    assert (resolved["alertname"], resolved["status"], resolved["seconds"]) == (
        "ApplicationDown",
        "resolved",
        5.0,
    )
    lines = result.timeline.render().splitlines()
    stopped = next(line for line in lines if "workorders stopped" in line)
    ready = next(line for line in lines if "restarted and ready" in line)
    # fired 5s after the stop, then 7s of start-up before "ready"
    assert float(ready.split("s ")[0]) - float(stopped.split("s ")[0]) == 12.0


def test_promises_follow_the_compressed_rule_durations() -> None:
    rules = """
groups:
  - name: g
    rules:
      - alert: Slow
        expr: histogram_quantile(0.95, rate(x[10m])) > 1 and rate(y[2m]) > 0
        for: 2m
        labels: {severity: critical}
"""
    from shiprail.observe.drill.compression import compress_rules

    for factor, window, for_seconds in ((60, 10, 2), (30, 20, 4)):
        promises = Promises.from_rules([compress_rules(rules, factor)], [], factor)
        # the longest window, the for, then 3 scrapes + 1s group_wait + 20s slack
        assert promises.rule("Slow", "critical") == window + for_seconds + 3 + 1 + 20


def test_the_committed_rules_promise_what_the_drill_reports(promises: Promises) -> None:
    assert promises.rule("HighErrorRate", "critical") == 34
    assert promises.rule("HighResponseTime", "warning") == 39
    assert promises.rule("ApplicationDown", "critical") == 25
    assert round(promises.burn("workorders-availability", 0.5)) == 29


def test_an_await_waits_for_its_longest_promise_only(promises: Promises) -> None:
    clock = FakeClock()
    stack = FakeStack(clock, delays={"HighErrorRate": 30.0, "ErrorBudgetBurn": 2.0})
    alerts = (Alert("HighErrorRate", "critical"), Alert("ErrorBudgetBurn", "critical"))
    step = Step("fault", Faults(error_ratio=0.5), (Await("firing", alerts),))
    result = run(stack, promises, scenario=(step,))
    assert [d["seconds"] for d in result.deliveries] == [2.0, 30.0]
    assert clock.now == 30.0


def test_the_timeline_keeps_simultaneous_events_in_the_order_they_happened() -> None:
    clock = FakeClock()
    timeline = Timeline(clock=clock, say=lambda _: None)
    clock.now = 2.0
    timeline.add("step done")  # "s" sorts after "r", but it happened first
    timeline.add("resolved later", at=2.0)
    timeline.add("earlier delivery", at=1.0)
    assert timeline.render().splitlines() == [
        "    1.0s  earlier delivery",
        "    2.0s  step done",
        "    2.0s  resolved later",
    ]
