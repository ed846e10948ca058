"""The incident drill: real workorders, Prometheus and Alertmanager, faults, and a timeline.

What it proves, end to end, with the committed files (``monitoring/prometheus/*.yaml``,
``monitoring/alertmanager/``): injected faults make the right alerts fire, Alertmanager
routes them to PagerDuty, Slack and email with the right severity, labels and runbook link,
within the time the rules promise, and recovery sends resolved notifications.

The package, one concern per module:

- ``scenario``: the steps, faults and expected notifications, as data;
- ``runner``: the loop executing a scenario against a stack, with an injected clock;
- ``compression``: rule durations divided so the drill takes minutes, and the delivery time
  each compressed rule promises;
- ``configs``: the Prometheus and Alertmanager configuration written from the committed files;
- ``receiver`` and ``mailbox``: local stand-ins for Slack, PagerDuty and the mail relay;
- ``processes`` and ``stack``: the real processes, started and stopped;
- ``load``: steady client traffic.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from shiprail.observe.dashboards import dashboard_queries
from shiprail.observe.drill.compression import (
    DEFAULT_COMPRESSION,
    Promises,
    compressed_rule_files,
)
from shiprail.observe.drill.load import Load
from shiprail.observe.drill.runner import DrillResult, Runner, Timeline
from shiprail.observe.drill.scenario import SCENARIO
from shiprail.observe.drill.stack import LiveStack
from shiprail.observe.slo import load_slos

__all__ = ["DEFAULT_COMPRESSION", "DrillResult", "run_drill"]


def run_drill(
    root: Path,
    workdir: Path,
    *,
    compression: int = DEFAULT_COMPRESSION,
    say: Callable[[str], None] = lambda _: None,
) -> DrillResult:
    """Run the committed scenario against the live stack; :class:`Refused` if a promise
    breaks, :class:`ToolCrashed`/:class:`ToolMissing` if the stack cannot run."""
    root, workdir = root.resolve(), workdir.resolve()
    clock = time.monotonic
    timeline = Timeline(clock=clock, say=say)
    monitoring = root / "monitoring"
    rules = compressed_rule_files(monitoring, compression)
    promises = Promises.from_rules(rules.values(), load_slos(monitoring / "slo"), compression)
    panel_queries = dashboard_queries(monitoring / "grafana" / "dashboards")
    stack = LiveStack(
        root, workdir, rules=rules, announce=timeline.add, compression=compression, clock=clock
    )
    with stack.running(), Load(stack.app_url, stack.token):
        runner = Runner(
            stack,
            promises,
            timeline=timeline,
            email_to=stack.email_to,
            panel_queries=panel_queries,
            clock=clock,
            sleep=time.sleep,
        )
        return runner.run(SCENARIO)
