"""``slo report`` and the Prometheus-backed release analysis, against a fake Prometheus HTTP
API (httpx.MockTransport) that answers the queries they send."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest
from observe_support import MONITORING

from shiprail.deploy.analysis.interface import Limits, WatchTarget
from shiprail.deploy.analysis.prometheus import PrometheusAnalysis
from shiprail.errors import ToolCrashed, UsageError
from shiprail.observe.promapi import PrometheusAPI
from shiprail.observe.slo import load_slos
from shiprail.observe.slo_report import collect


def _vector(*samples: tuple[dict[str, str], float]) -> dict:
    return {
        "status": "success",
        "data": {
            "resultType": "vector",
            "result": [{"metric": m, "value": [0, str(v)]} for m, v in samples],
        },
    }


def _api(answer: Callable[[str], dict]) -> tuple[PrometheusAPI, list[str]]:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/alerts":
            return httpx.Response(200, json=answer("ALERTS"))
        query = request.url.params["query"]
        seen.append(query)
        return httpx.Response(200, json=answer(query))

    return PrometheusAPI("http://prom:9090", transport=httpx.MockTransport(handler)), seen


def test_report_shows_compliance_budget_and_burning_slos() -> None:
    def answer(query: str) -> dict:
        if query == "ALERTS":
            alert = {
                "labels": {
                    "alertname": "ErrorBudgetBurn",
                    "slo": "workorders-availability",
                    "environment": "prod",
                    "burn_window": "page",
                },
                "state": "firing",
            }
            return {"status": "success", "data": {"alerts": [alert]}}
        env = {"environment": "prod"}
        if query.startswith("slo:sli_error:ratio_rate30d") and "availability" in query:
            return _vector((env, 0.0004))
        if query.startswith("slo:error_budget:remaining") and "availability" in query:
            return _vector((env, 0.6))
        return _vector()

    api, seen = _api(answer)
    rows = collect(api, load_slos(MONITORING / "slo"))
    availability, latency = rows
    assert availability.compliance == pytest.approx(99.96)
    assert availability.budget_remaining == pytest.approx(60.0)
    assert availability.state == "burning (page)"
    assert latency.compliance is None and latency.state == "no data"
    assert any('slo="workorders-latency"' in q for q in seen)
    json.dumps([row.as_dict() for row in rows])  # --json output is serialisable


def test_prometheus_errors_become_shiprail_errors() -> None:
    api, _ = _api(lambda q: {"status": "error", "errorType": "bad_data", "error": "parse error"})
    with pytest.raises(UsageError, match="parse error"):
        api.query("rate(")

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    with pytest.raises(ToolCrashed, match="cannot be reached"):
        PrometheusAPI("http://prom:9090", transport=httpx.MockTransport(down)).query("up")


TARGET = WatchTarget("prod", "r42", ("http://127.0.0.1:8001",))


def _analysis(values: dict[str, float | None]) -> tuple[PrometheusAnalysis, list[str]]:
    def answer(query: str) -> dict:
        key = (
            "p95"
            if query.startswith("histogram_quantile")
            else ("errors" if "5.." in query else "requests")
        )
        value = values[key]
        return _vector() if value is None else _vector(({}, value))

    api, seen = _api(answer)
    now = [1000.0]
    analysis = PrometheusAnalysis(api, clock=lambda: now[0])
    analysis.begin(TARGET)
    now[0] += 95
    return analysis, seen


def test_analysis_queries_only_the_release_series_since_the_switch() -> None:
    analysis, seen = _analysis({"requests": 200, "errors": 2, "p95": 0.12})
    verdict = analysis.check(TARGET, Limits())
    assert verdict.ok and verdict.error_ratio == pytest.approx(0.01)
    assert verdict.p95_seconds == 0.12 and verdict.requests == 200
    assert all('environment="prod", release="r42"' in q and "[95s]" in q for q in seen)


def test_analysis_fails_a_release_with_errors_or_slow_responses() -> None:
    bad, _ = _analysis({"requests": 100, "errors": 20, "p95": 0.1})
    verdict = bad.check(TARGET, Limits())
    assert not verdict.ok and "error ratio 20.0%" in verdict.reason
    slow, _ = _analysis({"requests": 100, "errors": 0, "p95": 0.9})
    verdict = slow.check(TARGET, Limits())
    assert not verdict.ok and "p95 latency 900 ms" in verdict.reason


def test_analysis_does_not_judge_too_little_traffic() -> None:
    quiet, _ = _analysis({"requests": 5, "errors": 5, "p95": None})
    verdict = quiet.check(TARGET, Limits(min_requests=20))
    assert verdict.ok and "not judged" in verdict.reason
