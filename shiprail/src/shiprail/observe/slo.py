"""SLOs as code: ``monitoring/slo/*.yaml`` in, Prometheus recording and alerting rules out.

The alerts are the multi-window, multi-burn-rate alerts of the Google SRE workbook (chapter
5, "Alerting on SLOs"): an alert fires when both a long and a short window burn the error
budget faster than a threshold. The burn-rate factor is *derived*, never hard-coded:

    factor = budget share spent * SLO period / long window

so with a 30-day period, 2% of the budget in 1 hour is 14.4x, 5% in 6 hours is 6x, 10% in 1 day
is 3x and 10% in 3 days is 1x; a 28-day period gives 13.44x, 5.6x, 2.8x and 0.93x. The error
ratio threshold is ``factor * (1 - objective)``.

Generated names (stable: dashboards, ``shiprail slo report`` and the analysis read them):

    slo:sli_error:ratio_rate<window>   error ratio over each window (labels slo, service + SLI's)
    slo:objective:ratio                the objective, e.g. 0.999
    slo:error_budget:remaining         share of the period's budget left (1 = untouched, <0 spent)
    ErrorBudgetBurn                    alert; severity critical + burn_window=page, or
                                       severity warning + burn_window=ticket
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, field_validator, model_validator

from shiprail.errors import ConfigError, Refused, UsageError
from shiprail.strict import StrictModel

#: Where the specs and the generated rules live, relative to the repository root.
DEFAULT_SLO_DIR = "monitoring/slo"
DEFAULT_RULES_FILE = "monitoring/prometheus/slo-rules.yaml"
WINDOW_PLACEHOLDER = "{{window}}"
ALERT_NAME = "ErrorBudgetBurn"
DEFAULT_RUNBOOK_BASE = "https://github.com/shiprail/shiprail/blob/main/docs/runbooks"

_DURATION = re.compile(r"^(?:\d+[smhdwy])+$")
_DURATION_PART = re.compile(r"(\d+)([smhdwy])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "y": 365 * 86400}
_NAME = re.compile(r"^[a-z][a-z0-9-]{0,62}$")


def duration_seconds(text: str) -> int:
    """Seconds in a Prometheus duration such as ``5m``, ``1h30m`` or ``30d``."""
    if not _DURATION.match(text):
        raise ValueError(f"'{text}' is not a duration such as 5m, 1h or 30d")
    return sum(int(n) * _UNIT_SECONDS[unit] for n, unit in _DURATION_PART.findall(text))


def format_duration(seconds: int) -> str:
    """The shortest Prometheus duration for ``seconds`` (``86400`` -> ``1d``)."""
    if seconds <= 0:
        raise ValueError("a duration must be positive")
    parts = []
    for unit in ("d", "h", "m", "s"):
        size = _UNIT_SECONDS[unit]
        if seconds >= size:
            count, seconds = divmod(seconds, size)
            parts.append(f"{count}{unit}")
    return "".join(parts)


def _number(value: float) -> str:
    """A float as PromQL text without binary noise (0.0144, not 0.014400000000000001)."""
    text = f"{value:.10g}"
    return text


class BurnWindow(StrictModel):
    """One alert condition: ``budget_percent`` of the budget spent within ``long`` window."""

    long: str
    short: str
    budget_percent: float = Field(gt=0, le=100)

    @field_validator("long", "short")
    @classmethod
    def _is_duration(cls, value: str) -> str:
        duration_seconds(value)
        return value


def _default_page() -> list[BurnWindow]:
    return [
        BurnWindow(long="1h", short="5m", budget_percent=2),
        BurnWindow(long="6h", short="30m", budget_percent=5),
    ]


def _default_ticket() -> list[BurnWindow]:
    return [
        BurnWindow(long="1d", short="2h", budget_percent=10),
        BurnWindow(long="3d", short="6h", budget_percent=10),
    ]


class Alerting(StrictModel):
    """Which windows page (severity critical) and which open a ticket (severity warning)."""

    page: list[BurnWindow] = Field(default_factory=_default_page)
    ticket: list[BurnWindow] = Field(default_factory=_default_ticket)


class SLI(StrictModel):
    """PromQL for bad and all events per second; ``{{window}}`` stands for the range."""

    errors: str
    total: str

    @field_validator("errors", "total")
    @classmethod
    def _has_window(cls, value: str) -> str:
        if WINDOW_PLACEHOLDER not in value:
            raise ValueError(f"the query must use {WINDOW_PLACEHOLDER} as its range")
        return value.strip()


class SLOSpec(StrictModel):
    name: str
    description: str = ""
    objective: float = Field(gt=0, lt=100, description="percent of good events, e.g. 99.9")
    period: str = "30d"
    sli: SLI
    alerting: Alerting = Field(default_factory=Alerting)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("must be lower-case letters, digits and '-'")
        return value

    @field_validator("period")
    @classmethod
    def _period(cls, value: str) -> str:
        duration_seconds(value)
        return value


class SLOFile(StrictModel):
    version: int = 1
    service: str
    runbook_base: str = DEFAULT_RUNBOOK_BASE
    slos: list[SLOSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> SLOFile:
        names = [slo.name for slo in self.slos]
        if len(names) != len(set(names)):
            raise ValueError("SLO names must be unique within a file")
        return self


@dataclass(frozen=True)
class BurnAlert:
    """A computed alert condition: the factor and the error-ratio threshold it implies."""

    severity: str
    burn_window: str
    long: str
    short: str
    factor: float
    threshold: float


@dataclass(frozen=True)
class SLO:
    """One SLO, resolved: its full name, the service and the numbers derived from the spec."""

    service: str
    spec: SLOSpec
    runbook_base: str

    @property
    def name(self) -> str:
        return f"{self.service}-{self.spec.name}"

    @property
    def objective_ratio(self) -> float:
        return round(self.spec.objective / 100, 10)

    @property
    def budget(self) -> float:
        """The error budget as a ratio of events (0.001 for 99.9%)."""
        return round(1 - self.objective_ratio, 10)

    def burn_alerts(self) -> list[BurnAlert]:
        period = duration_seconds(self.spec.period)
        alerts = []
        for kind, severity, windows in (
            ("page", "critical", self.spec.alerting.page),
            ("ticket", "warning", self.spec.alerting.ticket),
        ):
            for window in windows:
                factor = round(
                    window.budget_percent / 100 * period / duration_seconds(window.long), 6
                )
                alerts.append(
                    BurnAlert(
                        severity=severity,
                        burn_window=kind,
                        long=window.long,
                        short=window.short,
                        factor=factor,
                        threshold=round(factor * self.budget, 12),
                    )
                )
        return alerts

    def windows(self) -> list[str]:
        """Every window a rule needs, shortest first (alert windows plus the period)."""
        seen = {self.spec.period}
        for alert in self.burn_alerts():
            seen.update((alert.long, alert.short))
        return sorted(seen, key=duration_seconds)


def load_slos(directory: Path) -> list[SLO]:
    """Read every ``*.yaml``/``*.yml`` in ``directory`` (sorted, so output is stable)."""
    if not directory.is_dir():
        raise UsageError(
            f"SLO directory {directory} does not exist",
            hint="create monitoring/slo/<service>.yaml or pass --slo-dir",
        )
    files = sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])
    if not files:
        raise UsageError(f"no SLO files (*.yaml) in {directory}")
    from shiprail.config import parse_yaml, validate

    slos: list[SLO] = []
    seen: set[str] = set()
    for path in files:
        data, node = parse_yaml(path.read_text(), str(path))
        spec: SLOFile = validate(SLOFile, data, node, str(path))
        for item in spec.slos:
            slo = SLO(service=spec.service, spec=item, runbook_base=spec.runbook_base.rstrip("/"))
            if slo.name in seen:
                raise ConfigError(f"SLO '{slo.name}' is defined twice", path=str(path))
            seen.add(slo.name)
            slos.append(slo)
    return slos


def _ratio_record(window: str) -> str:
    return f"slo:sli_error:ratio_rate{window}"


def _selector(slo: SLO) -> str:
    return f'{{slo="{slo.name}", service="{slo.service}"}}'


def rule_groups(slos: Iterable[SLO]) -> list[dict[str, Any]]:
    """The Prometheus rule groups for ``slos``: recordings first, then the alerts."""
    groups: list[dict[str, Any]] = []
    for slo in slos:
        labels = {"slo": slo.name, "service": slo.service}
        period = slo.spec.period
        recordings: list[dict[str, Any]] = []
        for window in slo.windows():
            errors = slo.spec.sli.errors.replace(WINDOW_PLACEHOLDER, window)
            total = slo.spec.sli.total.replace(WINDOW_PLACEHOLDER, window)
            recordings.append(
                {
                    "record": _ratio_record(window),
                    "expr": f"(\n  {errors}\n)\n/\n(\n  {total}\n)\n",
                    "labels": dict(labels),
                }
            )
        recordings.append(
            {
                "record": "slo:objective:ratio",
                "expr": f"vector({_number(slo.objective_ratio)})",
                "labels": dict(labels),
            }
        )
        recordings.append(
            {
                "record": "slo:error_budget:remaining",
                "expr": (f"1 - {_ratio_record(period)}{_selector(slo)} / {_number(slo.budget)}\n"),
                "labels": dict(labels),
            }
        )
        groups.append({"name": f"slo-{slo.name}-recordings", "rules": recordings})

        alerts: list[dict[str, Any]] = []
        for kind, severity in (("page", "critical"), ("ticket", "warning")):
            conditions = [a for a in slo.burn_alerts() if a.burn_window == kind]
            if not conditions:
                continue
            clauses = []
            for cond in conditions:
                threshold = _number(cond.threshold)
                clauses.append(
                    f"(\n  {_ratio_record(cond.long)}{_selector(slo)} > {threshold}\n"
                    f"  and\n  {_ratio_record(cond.short)}{_selector(slo)} > {threshold}\n)"
                )
            explained = "; ".join(
                f"{_number(c.factor)}x over {c.long} and {c.short} (error ratio > "
                f"{_number(c.threshold)})"
                for c in conditions
            )
            alerts.append(
                {
                    "alert": ALERT_NAME,
                    "expr": "\nor\n".join(clauses) + "\n",
                    "labels": {**labels, "severity": severity, "burn_window": kind},
                    "annotations": {
                        "summary": (
                            f"{slo.name}: error budget burning too fast ({kind})"
                            + " in {{ $labels.environment }}"
                        ),
                        "description": (
                            f"{slo.spec.description or slo.name} Objective "
                            f"{_number(slo.spec.objective)}% over {period}. "
                            f"Burn rate: {explained}. "
                            "Error ratio now {{ $value | humanizePercentage }}."
                        ),
                        "runbook_url": f"{slo.runbook_base}/{ALERT_NAME}.md",
                    },
                }
            )
        groups.append({"name": f"slo-{slo.name}-alerts", "rules": alerts})
    return groups


class _Dumper(yaml.SafeDumper):
    """Block scalars for multi-line PromQL so the generated file reads like a hand-written one."""


def _str_presenter(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    if "\n" in data:
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


_Dumper.add_representer(str, _str_presenter)

HEADER = (
    "# Generated by `shiprail slo generate` from {source}; do not edit.\n"
    "# CI fails when this file is stale: run `shiprail slo generate` and commit the result.\n"
)


def render(slos: list[SLO], source: str = DEFAULT_SLO_DIR) -> str:
    """The rules file text (deterministic: same specs, same bytes)."""
    body = yaml.dump(
        {"groups": rule_groups(slos)},
        Dumper=_Dumper,
        sort_keys=False,
        width=1000,
        default_flow_style=False,
    )
    return HEADER.format(source=source) + body


@dataclass(frozen=True)
class GenerateResult:
    path: Path
    changed: bool
    slos: tuple[str, ...]


def generate(
    slo_dir: Path, rules_file: Path, *, check: bool = False, source: str = ""
) -> GenerateResult:
    """Write the rules (or with ``check``, refuse when the committed file differs)."""
    slos = load_slos(slo_dir)
    text = render(slos, source or DEFAULT_SLO_DIR)
    current = rules_file.read_text() if rules_file.exists() else None
    changed = current != text
    names = tuple(slo.name for slo in slos)
    if check:
        if changed:
            raise Refused(
                f"{rules_file} is stale: it does not match {source or slo_dir}",
                hint="run `shiprail slo generate` and commit the result",
            )
        return GenerateResult(rules_file, False, names)
    if changed:
        rules_file.parent.mkdir(parents=True, exist_ok=True)
        rules_file.write_text(text)
    return GenerateResult(rules_file, changed, names)


def generate_from_config(
    slo_dir: str | None, rules_file: str | None, *, check: bool = False
) -> GenerateResult:
    """:func:`generate` with paths from the options, else ``shiprail.yaml``, repo-relative."""
    from shiprail.config import load_config
    from shiprail.paths import repo_root

    monitoring = load_config().monitoring
    root = repo_root()
    source = slo_dir or monitoring.slo_dir
    return generate(
        root / source, root / (rules_file or monitoring.rules_file), check=check, source=source
    )
