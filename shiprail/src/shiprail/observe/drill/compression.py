"""Time compression: the committed rules with every duration divided, and what they promise.

To run in minutes instead of hours, the drill divides every duration in the rules (range
selectors, subquery steps, offsets, ``for:`` and group intervals) by ``compression`` (60: 5m
becomes 5s, 1h becomes 1m). Thresholds, labels and annotations are the committed ones, so the
drill tests the rule logic that runs in production.

The same compressed durations say how long the drill may wait for each notification: a
missing alert must fail the drill after the time the rules promise, not after a guess.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from shiprail.observe.slo import SLO, duration_seconds, format_duration

DEFAULT_COMPRESSION = 60
#: Prometheus scrapes and evaluates this often during the drill.
SCRAPE_SECONDS = 1
#: Time allowed for process start-up, network and Python scheduling on a busy 2-core runner,
#: on top of what the rules promise.
SLACK_SECONDS = 20.0
#: The committed rule files the drill loads, relative to ``monitoring/prometheus``.
RULE_FILES = ("alerts.yaml", "slo-rules.yaml")

_DURATION = r"\d+[smhdwy](?:\d+[smhdwy])*"
_RANGE = re.compile(rf"\[({_DURATION})(?::({_DURATION}))?\]")
_OFFSET = re.compile(rf"\boffset\s+({_DURATION})")


def compress_duration(text: str, factor: int) -> str:
    """``text`` divided by ``factor`` (at least one second)."""
    return format_duration(max(1, duration_seconds(text) // factor))


def compress_expr(expr: str, factor: int) -> str:
    """Divide every range selector, subquery step and offset in a PromQL expression."""

    def ranges(match: re.Match[str]) -> str:
        window = compress_duration(match.group(1), factor)
        step = match.group(2)
        return f"[{window}:{compress_duration(step, factor)}]" if step else f"[{window}]"

    expr = _RANGE.sub(ranges, expr)
    return _OFFSET.sub(lambda m: f"offset {compress_duration(m.group(1), factor)}", expr)


def compress_rules(text: str, factor: int) -> str:
    """A rules file with every duration divided by ``factor``; everything else unchanged."""
    data = yaml.safe_load(text)
    for group in data.get("groups", []):
        if "interval" in group:
            group["interval"] = compress_duration(group["interval"], factor)
        for rule in group.get("rules", []):
            rule["expr"] = compress_expr(str(rule["expr"]), factor)
            if "for" in rule:
                rule["for"] = compress_duration(rule["for"], factor)
    return yaml.safe_dump(data, sort_keys=False)


def compressed_rule_files(monitoring: Path, factor: int) -> dict[str, str]:
    """File name -> compressed text of each committed rule file the drill loads."""
    return {
        name: compress_rules((monitoring / "prometheus" / name).read_text(), factor)
        for name in RULE_FILES
    }


def rule_windows(text: str) -> dict[tuple[str, str], tuple[int, int]]:
    """(alertname, severity) -> (longest range in seconds, ``for`` in seconds)."""
    result: dict[tuple[str, str], tuple[int, int]] = {}
    for group in yaml.safe_load(text).get("groups", []):
        for rule in group.get("rules", []):
            if "alert" not in rule:
                continue
            ranges = [duration_seconds(m.group(1)) for m in _RANGE.finditer(str(rule["expr"]))]
            for_seconds = duration_seconds(rule["for"]) if "for" in rule else 0
            key = (rule["alert"], rule.get("labels", {}).get("severity", ""))
            result[key] = (max(ranges, default=0), for_seconds)
    return result


#: After the condition holds: evaluation and scrape lag, then Alertmanager's one-second
#: ``group_wait``, then the slack for a busy machine.
_DELIVERY_SECONDS = 3 * SCRAPE_SECONDS + 1 + SLACK_SECONDS


@dataclass(frozen=True)
class Promises:
    """Seconds the compressed rules allow from a fault to the notification's delivery."""

    windows: dict[tuple[str, str], tuple[int, int]]
    slos: Sequence[SLO]
    compression: int

    @classmethod
    def from_rules(cls, texts: Iterable[str], slos: Sequence[SLO], compression: int) -> Promises:
        """Promises read from compressed rule files (``compressed_rule_files``)."""
        windows: dict[tuple[str, str], tuple[int, int]] = {}
        for text in texts:
            windows.update(rule_windows(text))
        return cls(windows, tuple(slos), compression)

    def rule(self, alertname: str, severity: str) -> float:
        """Fill the rule's window, wait its ``for``, evaluate, group, plus start-up slack."""
        window, for_seconds = self.windows[(alertname, severity)]
        return window + for_seconds + _DELIVERY_SECONDS

    def burn(self, slo_name: str, error_ratio: float) -> float:
        """The SLO page at ``error_ratio``: the SRE workbook's detection time (long window x
        threshold / error ratio) of its fastest page condition, once the short window holds
        the errors, plus evaluation, grouping and start-up slack."""
        slo = next(s for s in self.slos if s.name == slo_name)
        detections = [
            max(
                duration_seconds(a.long) / self.compression * a.threshold / error_ratio,
                duration_seconds(a.short) / self.compression,
            )
            for a in slo.burn_alerts()
            if a.burn_window == "page" and a.threshold < error_ratio
        ]
        return min(detections) + _DELIVERY_SECONDS
