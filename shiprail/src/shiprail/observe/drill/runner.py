"""The loop that executes the scenario: act, then poll for the promised notifications.

The runner knows nothing of processes or sockets. It drives a :class:`Stack` (the live one in
``stack.py``, or a test double) and measures with the ``clock`` and ``sleep`` it is given, as
the release engine does, so its rules (what counts as delivered, when a missing alert fails
the drill, what the timeline says) are tested in milliseconds without real time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from shiprail.errors import Refused
from shiprail.observe.drill.compression import Promises
from shiprail.observe.drill.delivery import check_delivery
from shiprail.observe.drill.receiver import Notification
from shiprail.observe.drill.scenario import (
    CHANNELS,
    Action,
    Alert,
    Await,
    BurnPromise,
    CheckPanels,
    Faults,
    RestartService,
    StayQuiet,
    Step,
    StopService,
)

#: How often the runner looks for new notifications, in seconds.
POLL_SECONDS = 0.25


class Stack(Protocol):
    """What the runner drives and reads while the scenario runs."""

    #: Where the processes' logs are, named when the drill fails.
    logs: Path

    def set_faults(self, error_ratio: float, delay_seconds: float) -> None: ...

    def stop_service(self) -> None: ...

    def restart_service(self) -> None:
        """Return once the service answers again."""

    def notifications(self) -> list[Notification]:
        """Every notification received so far, stamped with the runner's clock."""

    def failed_logins(self) -> list[str]:
        """User names the mail relay refused (a broken password file shows here)."""

    def query(self, expr: str) -> None:
        """Evaluate a PromQL expression on the live Prometheus; raise if it fails."""


class Timeline:
    """Events as offsets from the drill's start, announced through ``say`` as they happen."""

    def __init__(
        self, *, clock: Callable[[], float] = time.monotonic, say: Callable[[str], None]
    ) -> None:
        self.clock = clock
        self.say = say
        self.started = clock()
        self.events: list[tuple[float, str]] = []

    def add(self, what: str, at: float | None = None) -> None:
        offset = (at if at is not None else self.clock()) - self.started
        self.events.append((offset, what))
        self.say(f"{offset:7.1f}s  {what}")

    def render(self) -> str:
        """One line per event in time order; events at the same moment keep the order they
        happened in (a delivery before the step it completes)."""
        events = sorted(self.events, key=lambda event: event[0])
        return "\n".join(f"{offset:7.1f}s  {what}" for offset, what in events)


@dataclass
class DrillResult:
    timeline: Timeline
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    panel_queries: int = 0
    panel_errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "timeline": [{"t": round(t, 2), "event": e} for t, e in self.timeline.events],
            "deliveries": self.deliveries,
            "panel_queries": self.panel_queries,
            "panel_errors": self.panel_errors,
        }


class Runner:
    """Runs a scenario against one stack; the first broken promise raises :class:`Refused`."""

    def __init__(
        self,
        stack: Stack,
        promises: Promises,
        *,
        timeline: Timeline,
        email_to: Sequence[str],
        panel_queries: Sequence[tuple[str, str]],
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.stack = stack
        self.promises = promises
        self.timeline = timeline
        self.email_to = list(email_to)
        self.panel_queries = list(panel_queries)
        self.clock = clock
        self.sleep = sleep
        self.result = DrillResult(timeline)

    def run(self, scenario: Sequence[Step]) -> DrillResult:
        for step in scenario:
            self.step(step)
        self.timeline.add("drill passed")
        return self.result

    def step(self, step: Step) -> None:
        if step.measure_after_action:
            self.act(step.action, self.clock())
        if step.say is not None:
            self.timeline.add(step.say)
        since = self.clock()
        if not step.measure_after_action:
            self.act(step.action, since)
        for expected in step.awaits:
            self.wait_for(expected, since)
        if step.done is not None:
            self.timeline.add(step.done)

    def act(self, action: Action, since: float) -> None:
        match action:
            case Faults(error_ratio=ratio, delay_seconds=delay):
                self.stack.set_faults(ratio, delay)
            case StopService():
                self.stack.stop_service()
            case RestartService():
                self.stack.restart_service()
            case StayQuiet(seconds=seconds, minimum_seconds=minimum):
                self.sleep(max(minimum, seconds / self.promises.compression))
                self.assert_quiet(since)
            case CheckPanels():
                self.check_panels()

    def promise(self, alert: Alert) -> float:
        """Seconds ``alert`` may take from the action to its delivery."""
        if isinstance(alert.promise, BurnPromise):
            return self.promises.burn(alert.promise.slo, alert.promise.error_ratio)
        return self.promises.rule(alert.alertname, alert.severity)

    def wait_for(self, expected: Await, since: float) -> None:
        """Poll until every alert of ``expected`` arrived on all its channels, or the longest
        of their promises has passed."""
        pending = [(alert, self.promise(alert)) for alert in expected.alerts]
        deadline = since + max(promise for _, promise in pending)
        while pending:
            received = self.stack.notifications()
            for alert, promise in list(pending):
                found = [
                    n
                    for n in received
                    if n.alertname == alert.alertname
                    and n.status == expected.status
                    and n.at >= since
                    and (n.severity == alert.severity or n.status == "resolved")
                ]
                if CHANNELS[alert.severity] <= {n.channel for n in found}:
                    self.delivered(alert, promise, expected.status, found, since)
                    pending.remove((alert, promise))
            if not pending:
                return
            if self.clock() > deadline:
                raise self.missing([alert for alert, _ in pending], expected.status, received)
            self.sleep(POLL_SECONDS)

    def delivered(
        self, alert: Alert, promise: float, status: str, found: list[Notification], since: float
    ) -> None:
        """Check and record a delivery; one later than promised fails the drill."""
        first = min(n.at for n in found)
        channels = sorted({n.channel for n in found})
        check_delivery(alert, found, status, self.email_to)
        self.timeline.add(
            f"{status:8} {alert.alertname} ({alert.severity}) delivered to "
            f"{', '.join(channels)} after {first - since:.1f}s (promised <= {promise:.0f}s)",
            at=first,
        )
        self.result.deliveries.append(
            {
                "alertname": alert.alertname,
                "severity": alert.severity,
                "status": status,
                "seconds": round(first - since, 2),
                "promised_seconds": round(promise, 1),
                "channels": channels,
            }
        )
        if first - since > promise:
            raise Refused(
                f"{alert.alertname} ({alert.severity}) {status} arrived after "
                f"{first - since:.1f}s, later than the {promise:.0f}s the rules promise"
            )

    def missing(self, pending: list[Alert], status: str, received: list[Notification]) -> Refused:
        names = ", ".join(f"{a.alertname} ({a.severity})" for a in pending)
        seen = sorted({f"{n.alertname}/{n.status}/{n.channel}" for n in received})
        refused = self.stack.failed_logins()
        return Refused(
            f"no {status} notification for {names} on every channel within the promised "
            f"time; received so far: {', '.join(seen) or 'nothing'}"
            + (f"; the mail relay refused logins as {refused}" if refused else ""),
            hint=f"see the logs in {self.stack.logs}",
        )

    def assert_quiet(self, since: float) -> None:
        firing = [n for n in self.stack.notifications() if n.at >= since and n.status == "firing"]
        if firing:
            names = ", ".join(sorted({n.alertname for n in firing}))
            raise Refused(f"alerts fired while the service was healthy: {names}")

    def check_panels(self) -> None:
        """Every dashboard panel query must evaluate without error on the live Prometheus."""
        for where, expr in self.panel_queries:
            self.result.panel_queries += 1
            try:
                self.stack.query(expr)
            except Exception as exc:
                self.result.panel_errors.append(f"{where}: {exc}")
        self.timeline.add(
            f"dashboards: {self.result.panel_queries} panel queries evaluated, "
            f"{len(self.result.panel_errors)} errors"
        )
        if self.result.panel_errors:
            raise Refused("dashboard queries failed: " + "; ".join(self.result.panel_errors[:5]))
