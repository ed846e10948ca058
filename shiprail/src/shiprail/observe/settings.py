"""The ``monitoring:`` section of ``shiprail.yaml``: where Prometheus is and where SLOs live.

``prometheus_url`` unset (the default) means no Prometheus: the release watch then judges a
release by scraping its own ``/metrics``; set it and the watch, ``shiprail slo report`` and the
dashboards checks use PromQL against that server. ``alertmanager_url`` set, an aborted canary
is announced there (``ShiprailCanaryAborted``).
"""

from __future__ import annotations

from pydantic import Field

from shiprail.strict import StrictModel


class MonitoringConfig(StrictModel):
    prometheus_url: str | None = Field(
        default=None, description="Prometheus base URL, e.g. http://127.0.0.1:9090"
    )
    alertmanager_url: str | None = Field(
        default=None,
        description="Alertmanager base URL; an aborted canary is posted there as an alert",
    )
    slo_dir: str = Field(default="monitoring/slo", description="SLO specs (*.yaml)")
    rules_file: str = Field(
        default="monitoring/prometheus/slo-rules.yaml",
        description="where `shiprail slo generate` writes the rules",
    )
    targets_dir: str = Field(
        default=".shiprail/monitoring/targets",
        description="file_sd targets files, one per environment, rewritten at every switch",
    )


class DoraTargets(StrictModel):
    """The ``dora:`` section: the team's own targets, shown beside DORA's performance levels.

    Defaults are the targets this repository sets itself (docs/dora.md): a deploy to prod at
    least daily, changes live within a day, at most 15 % of deployments failing, service
    restored within an hour.
    """

    deploys_per_day: float = Field(
        default=1.0, ge=0, description="deployment frequency to reach, at least (per day)"
    )
    lead_time_hours: float = Field(
        default=24.0, gt=0, description="median lead time for changes, at most (hours)"
    )
    change_failure_rate_percent: float = Field(
        default=15.0, ge=0, le=100, description="change failure rate, at most (percent)"
    )
    time_to_restore_hours: float = Field(
        default=1.0, gt=0, description="median time to restore service, at most (hours)"
    )
