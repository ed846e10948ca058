"""The default canary checks (Flagger's two) judge user traffic only: Docker's health probe
and Prometheus' scrape hit every replica all the time and always succeed fast, so counting
them would hide a release that fails 5 % of real requests. Evaluated by the real promtool on
series shaped like a workorders replica's."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from shiprail._subprocess import which
from shiprail.deploy.analysis import prometheus
from shiprail.deploy.analysis.metrics import IGNORED_ROUTES
from shiprail.deploy.settings import PROBE_ROUTES, CanaryConfig

from conftest import require_tools

CHECKS = {check.name: check for check in CanaryConfig().checks}
LABELS = 'environment="prod",release="r2"'


def test_default_checks_leave_out_the_routes_the_replica_analysis_leaves_out() -> None:
    assert set(PROBE_ROUTES.split("|")) == IGNORED_ROUTES
    assert prometheus.PROBE_ROUTES == PROBE_ROUTES
    for check in CHECKS.values():
        query = check.query.format(environment="prod", release="r2", interval="30s")
        selectors = query.count("{")
        assert query.count(f'route!~"{PROBE_ROUTES}"') == selectors, query


def _series(route: str, status: str, per_step: int) -> dict[str, str]:
    return {
        "series": f'http_requests_total{{{LABELS},route="{route}",status="{status}"}}',
        "values": f"0+{per_step}x20",
    }


def _buckets(route: str, counts: dict[str, int]) -> list[dict[str, str]]:
    return [
        {
            "series": f'http_request_duration_seconds_bucket{{{LABELS},route="{route}",le="{le}"}}',
            "values": f"0+{per_step}x20",
        }
        for le, per_step in counts.items()
    ]


@pytest.mark.prometheus
def test_probe_traffic_does_not_dilute_the_checks(tmp_path: Path) -> None:
    """Per 15 s: 95 good and 5 failed slow (~1 s) API requests, and 1000 fast /ready probes.
    Counting the probes would read a 99.5 % success rate and a p99 under 100 ms (both pass)."""
    require_tools("promtool")
    api = "/api/v1/workorders"
    series = [
        _series(api, "200", 95),
        _series(api, "500", 5),
        _series("/ready", "200", 1000),
        _series("/metrics", "200", 1000),
        *_buckets(api, {"0.1": 0, "0.5": 0, "1.0": 100, "+Inf": 100}),
        *_buckets("/ready", {"0.1": 1000, "0.5": 1000, "1.0": 1000, "+Inf": 1000}),
    ]
    expected = {"request-success-rate": 95.0, "request-duration": 995.0}
    tests = [
        {
            "interval": "15s",
            "input_series": series,
            "promql_expr_test": [
                {
                    "expr": CHECKS[name].query.format(
                        environment="prod", release="r2", interval="1m"
                    ),
                    "eval_time": "4m",
                    "exp_samples": [{"labels": "{}", "value": value}],
                }
                for name, value in expected.items()
            ],
        }
    ]
    spec = tmp_path / "checks-test.yml"
    spec.write_text(yaml.safe_dump({"rule_files": [], "tests": tests}, sort_keys=False))
    promtool = which("promtool")
    assert promtool is not None
    result = subprocess.run(
        [promtool, "test", "rules", str(spec)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
