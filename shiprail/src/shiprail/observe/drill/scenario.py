"""The incident drill's scenario, as data: each step's fault, and the notifications it must cause.

Phases: baseline (nothing fires) -> 50% errors (HighErrorRate + ErrorBudgetBurn page) ->
recovery (resolved), at once somewhat slow responses (HighResponseTime warning: Slack, email)
-> recovery (resolved, by email too) -> slow responses (HighResponseTime critical) ->
recovery -> service stopped (ApplicationDown) -> restarted (resolved).

The runner (``runner.py``) executes these records; nothing here touches a process or a
clock, so a new phase is a new :class:`Step`, and the runner's rules are tested with fakes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

#: The environment and release the drill's service is labelled with (file_sd targets).
ENVIRONMENT = "drill"
RELEASE = "drill-1"
#: A delay whose p95 lands between the HighResponseTime warning (0.5s) and critical (1s)
#: thresholds: with workorders' buckets (0.5, 1.0] the estimate stays below 1s.
WARNING_DELAY_SECONDS = 0.6
#: Where each severity must arrive (the committed routes: critical pages, warning tickets).
CHANNELS = {"critical": frozenset({"pagerduty", "slack"}), "warning": frozenset({"email", "slack"})}


# --- actions: what a step does to the service -----------------------------------------------


@dataclass(frozen=True)
class Faults:
    """Make the service answer 500 to a share of API requests and delay every one of them;
    the defaults are a healthy service (the recovery from any fault)."""

    error_ratio: float = 0.0
    delay_seconds: float = 0.0


@dataclass(frozen=True)
class StopService:
    """Stop the service's process: its target goes down."""


@dataclass(frozen=True)
class RestartService:
    """Start the service again; done once it answers ``/ready``."""


@dataclass(frozen=True)
class StayQuiet:
    """Let healthy traffic flow for ``seconds`` of uncompressed time (never less than
    ``minimum_seconds`` of real time), and fail if any alert fires meanwhile."""

    seconds: float
    minimum_seconds: float


@dataclass(frozen=True)
class CheckPanels:
    """Evaluate every dashboard panel query on the live Prometheus; any error fails."""


Action = Faults | StopService | RestartService | StayQuiet | CheckPanels


# --- expectations: what must arrive ---------------------------------------------------------


@dataclass(frozen=True)
class RulePromise:
    """Deliver within the alert rule's own (compressed) window and ``for``, plus slack."""


@dataclass(frozen=True)
class BurnPromise:
    """Deliver within the detection time of the SLO's fastest page at ``error_ratio``."""

    slo: str
    error_ratio: float


@dataclass(frozen=True)
class Alert:
    """One alert by name and severity; ``labels`` must be on its firing Slack and email
    messages (besides ``severity`` and ``service``)."""

    alertname: str
    severity: str
    labels: Mapping[str, str] = field(default_factory=dict)
    promise: RulePromise | BurnPromise = RulePromise()


@dataclass(frozen=True)
class Await:
    """Every alert of ``alerts`` must be delivered as ``status`` on all its channels."""

    status: str  # "firing" or "resolved"
    alerts: tuple[Alert, ...]


@dataclass(frozen=True)
class Step:
    """Announce ``say`` on the timeline, do ``action``, then await each of ``awaits`` in order,
    all measured from the start of the action; ``done`` is announced once they arrived.

    ``measure_after_action`` measures from the end of the action instead: a restart's
    recovery begins when the service is ready again, not when it was asked to start.
    """

    say: str | None
    action: Action
    awaits: tuple[Await, ...] = ()
    done: str | None = None
    measure_after_action: bool = False


_LABELS = {"environment": ENVIRONMENT}
HIGH_ERROR_RATE = Alert("HighErrorRate", "critical", _LABELS)
ERROR_BUDGET_BURN = Alert(
    "ErrorBudgetBurn",
    "critical",
    {**_LABELS, "slo": "workorders-availability", "burn_window": "page"},
    BurnPromise("workorders-availability", 0.5),
)
SLOW_WARNING = Alert("HighResponseTime", "warning", _LABELS)
SLOW_CRITICAL = Alert("HighResponseTime", "critical", _LABELS)
DOWN = Alert("ApplicationDown", "critical", {**_LABELS, "release": RELEASE, "colour": "blue"})

SCENARIO: tuple[Step, ...] = (
    Step(
        "baseline: steady traffic, no faults",
        StayQuiet(seconds=3600 / 6, minimum_seconds=8.0),
        done="baseline: no alert fired",
    ),
    Step(
        "fault: 50% of API requests answer 500",
        Faults(error_ratio=0.5),
        (Await("firing", (HIGH_ERROR_RATE, ERROR_BUDGET_BURN)),),
    ),
    Step(None, CheckPanels()),
    # The errors' recovery and the warning-level latency run together (different series),
    # so proving email costs the drill little extra time.
    Step(
        "recovery: errors cleared; fault: every API request delayed by "
        f"{WARNING_DELAY_SECONDS}s (p95 above the warning threshold, below the critical)",
        Faults(delay_seconds=WARNING_DELAY_SECONDS),
        (Await("resolved", (HIGH_ERROR_RATE,)), Await("firing", (SLOW_WARNING,))),
    ),
    Step("recovery: delay removed", Faults(), (Await("resolved", (SLOW_WARNING,)),)),
    Step(
        "fault: every API request delayed by 1.5s",
        Faults(delay_seconds=1.5),
        (Await("firing", (SLOW_CRITICAL,)),),
    ),
    Step("recovery: delay removed", Faults(), (Await("resolved", (SLOW_CRITICAL,)),)),
    Step("fault: workorders stopped", StopService(), (Await("firing", (DOWN,)),)),
    Step(
        "recovery: workorders restarted and ready",
        RestartService(),
        (Await("resolved", (DOWN,)),),
        measure_after_action=True,
    ),
)
