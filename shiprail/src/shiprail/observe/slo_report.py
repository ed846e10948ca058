"""``shiprail slo report``: each SLO's compliance and remaining error budget, from Prometheus.

It reads the series ``shiprail slo generate`` defines (``slo:sli_error:ratio_rate<period>``,
``slo:error_budget:remaining``) and the ``ErrorBudgetBurn`` alerts, one row per SLO and
environment. No data (a new environment, a stopped Prometheus rule) is reported as such,
never as 100%.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from shiprail import output
from shiprail.observe.promapi import PrometheusAPI
from shiprail.observe.slo import ALERT_NAME, SLO


@dataclass(frozen=True)
class SLOStatus:
    slo: str
    service: str
    environment: str
    objective: float
    period: str
    compliance: float | None
    budget_remaining: float | None
    burning: str | None

    @property
    def state(self) -> str:
        if self.compliance is None:
            return "no data"
        if self.burning:
            return f"burning ({self.burning})"
        if self.budget_remaining is not None and self.budget_remaining < 0:
            return "budget spent"
        return "ok"

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "state": self.state}


def collect(api: PrometheusAPI, slos: list[SLO]) -> list[SLOStatus]:
    rows: list[SLOStatus] = []
    firing: dict[tuple[str, str], str] = {}
    for alert in api.alerts():
        labels = alert.get("labels", {})
        if labels.get("alertname") == ALERT_NAME and alert.get("state") == "firing":
            key = (labels.get("slo", ""), labels.get("environment", ""))
            kind = labels.get("burn_window", "")
            firing[key] = "page" if "page" in (kind, firing.get(key)) else kind
    for slo in slos:
        selector = f'{{slo="{slo.name}", service="{slo.service}"}}'
        ratios = api.query(f"slo:sli_error:ratio_rate{slo.spec.period}{selector}")
        remaining = {
            s.labels.get("environment", ""): s.value
            for s in api.query(f"slo:error_budget:remaining{selector}")
        }
        if not ratios:
            rows.append(
                SLOStatus(
                    slo.name, slo.service, "", slo.spec.objective, slo.spec.period, None, None, None
                )
            )
            continue
        for sample in sorted(ratios, key=lambda s: s.labels.get("environment", "")):
            env = sample.labels.get("environment", "")
            ratio = sample.value
            compliance = None if ratio != ratio else round((1 - ratio) * 100, 4)  # NaN: no data
            left = remaining.get(env)
            left = None if left is None or left != left else round(left * 100, 2)
            rows.append(
                SLOStatus(
                    slo.name,
                    slo.service,
                    env,
                    slo.spec.objective,
                    slo.spec.period,
                    compliance,
                    left,
                    firing.get((slo.name, env)),
                )
            )
    return rows


def report_from_config(prometheus_url: str | None, slo_dir: str | None) -> list[SLOStatus]:
    """:func:`collect` with the URL and specs from the options, else ``shiprail.yaml``."""
    from shiprail.config import load_config
    from shiprail.errors import UsageError
    from shiprail.observe.slo import load_slos
    from shiprail.paths import repo_root

    monitoring = load_config().monitoring
    url = prometheus_url or monitoring.prometheus_url
    if not url:
        raise UsageError(
            "no Prometheus URL to read the SLOs from",
            hint="pass --prometheus-url, set SHIPRAIL_PROMETHEUS_URL or monitoring.prometheus_url",
        )
    slos = load_slos(repo_root() / (slo_dir or monitoring.slo_dir))
    with PrometheusAPI(url) as api:
        return collect(api, slos)


def print_table(rows: list[SLOStatus]) -> None:
    """The human report, on stderr."""
    columns = ("slo", "environment", "objective", "period", "compliance", "budget left", "state")
    cells = [
        (
            row.slo,
            row.environment or "-",
            f"{row.objective:g}%",
            row.period,
            "-" if row.compliance is None else f"{row.compliance:.3f}%",
            "-" if row.budget_remaining is None else f"{row.budget_remaining:.1f}%",
            row.state,
        )
        for row in rows
    ]
    output.table("SLO report", columns, cells, width=140)
