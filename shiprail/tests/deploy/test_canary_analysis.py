"""Canary analysis sources with captured data: the replicas' /metrics text between two scrapes,
PromQL sent to a mock Prometheus, and the Alertmanager announcement."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from shiprail.deploy.analysis.alertmanager import post_canary_aborted
from shiprail.deploy.analysis.interface import Measurement, WatchTarget
from shiprail.deploy.analysis.metrics import ReplicaMetricSource
from shiprail.deploy.analysis.prometheus import PrometheusMetricSource
from shiprail.deploy.settings import CanaryConfig, MetricCheck
from shiprail.deploy.strategies.canary import failed_checks
from shiprail.errors import ConfigError
from shiprail.observe.promapi import PrometheusAPI

CHECKS = CanaryConfig().checks
TARGET = WatchTarget("prod", "r2", ("http://10.0.0.1:8000", "http://10.0.0.2:8000"))


def exposition(ok: int, errors: int, fast: int, slow: int) -> str:
    """What a workorders replica answers on /metrics (probe routes included, to be ignored)."""
    route = "/api/v1/workorders"
    lines = [
        "# TYPE http_requests_total counter",
        f'http_requests_total{{method="GET",route="{route}",status="200"}} {ok}',
        f'http_requests_total{{method="GET",route="{route}",status="500"}} {errors}',
        'http_requests_total{method="GET",route="/ready",status="200"} 9999',
        "# TYPE http_request_duration_seconds histogram",
    ]
    for le, count in (("0.1", fast), ("0.5", fast), ("1.0", fast + slow), ("+Inf", fast + slow)):
        lines.append(
            f'http_request_duration_seconds_bucket{{method="GET",route="{route}",le="{le}"}} '
            f"{count}"
        )
    lines.append(f'http_request_duration_seconds_count{{method="GET",route="{route}"}} 0')
    return "\n".join(lines) + "\n"


def scripted(pages: dict[str, list[str]]) -> httpx.Client:
    """Each replica answers its pages in order, one per scrape; no page left: connect error."""

    def handler(request: httpx.Request) -> httpx.Response:
        queue = pages[f"http://{request.url.host}:{request.url.port}"]
        if not queue:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200, text=queue.pop(0))

    return httpx.Client(transport=httpx.MockTransport(handler))


def test_replica_source_judges_only_the_interval() -> None:
    one, two = TARGET.base_urls
    source = ReplicaMetricSource(
        scripted(
            {
                # before: 1000 good answers; during the interval: 95 good + 5 errors per replica,
                # 2 slow (0.5-1 s) answers in 100: p99 halfway into the slow bucket.
                one: [exposition(1000, 0, 1000, 0), exposition(1095, 5, 1098, 2)],
                two: [exposition(1000, 0, 1000, 0), exposition(1095, 5, 1098, 2)],
            }
        )
    )
    source.begin(TARGET)
    measured = source.measure(TARGET, CHECKS, 30)
    assert measured.requests == 200 and measured.problem is None
    assert measured.values["request-success-rate"] == pytest.approx(95.0)
    assert measured.values["request-duration"] == pytest.approx(750.0)
    assert failed_checks(CHECKS, measured) == [
        "request-success-rate 95.00 < 99",
        "request-duration 750.00 > 500",
    ]


def test_replica_source_an_unreachable_replica_is_a_problem() -> None:
    one, two = TARGET.base_urls
    source = ReplicaMetricSource(
        scripted({one: [exposition(0, 0, 0, 0), exposition(50, 0, 50, 0)], two: []})
    )
    source.begin(TARGET)
    measured = source.measure(TARGET, CHECKS, 30)
    assert measured.problem is not None and "cannot be scraped" in measured.problem
    assert measured.requests == 50
    assert failed_checks(CHECKS, measured)[0] == measured.problem


def test_replica_source_refuses_promql_only_checks() -> None:
    custom = [*CHECKS, MetricCheck(name="error-budget", query="vector(1)", max=2)]
    with pytest.raises(ConfigError, match="error-budget are PromQL") as info:
        ReplicaMetricSource(scripted({})).validate(custom)
    assert "prometheus_url" in (info.value.hint or "")
    ReplicaMetricSource(scripted({})).validate(CHECKS)


def test_prometheus_source_formats_the_templates() -> None:
    queries: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        query = parse_qs(urlparse(str(request.url)).query)["query"][0]
        queries.append(query)
        value = "120" if query.startswith("sum(increase") else "97.5"
        if query.startswith("histogram_quantile"):
            value = "NaN"
        body = {"status": "success", "data": {"resultType": "vector", "result": []}}
        body["data"]["result"] = [{"metric": {}, "value": [0, value]}]  # type: ignore[index]
        return httpx.Response(200, json=body)

    api = PrometheusAPI("http://prometheus:9090", transport=httpx.MockTransport(handler))
    measured = PrometheusMetricSource(api).measure(TARGET, CHECKS, 29.5)
    assert measured == Measurement(120.0, {"request-success-rate": 97.5, "request-duration": None})
    assert 'environment="prod", release="r2", route!~"/health|/ready' in queries[0]
    assert queries[0].endswith("[30s]))")
    assert (
        'http_requests_total{environment="prod",release="r2",'
        'route!~"/health|/ready|/metrics|/version",status!~"5.."}[30s]'
    ) in queries[1]
    assert "{{" not in queries[2] and "[30s]))) * 1000" in queries[2]
    assert failed_checks(CHECKS, measured) == [
        "request-success-rate 97.50 < 99",
        "request-duration: no data",
    ]


def test_alertmanager_gets_a_short_alert_and_down_is_not_fatal() -> None:
    posted: list[object] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/api/v2/alerts"
        posted.extend(json.loads(request.content))
        return httpx.Response(200)

    problem = post_canary_aborted(
        "http://am:9093/", "prod", "r2", "canary aborted: x", transport=httpx.MockTransport(handler)
    )
    assert problem is None
    alert = posted[0]
    assert isinstance(alert, dict)
    assert alert["labels"]["alertname"] == "ShiprailCanaryAborted"
    assert alert["labels"]["environment"] == "prod" and alert["labels"]["release"] == "r2"
    assert alert["annotations"]["description"] == "canary aborted: x"
    assert alert["endsAt"] > alert["startsAt"]

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    problem = post_canary_aborted(
        "http://am:9093", "prod", "r2", "x", transport=httpx.MockTransport(down)
    )
    assert problem == "Alertmanager at http://am:9093 cannot be reached (ConnectError)"
