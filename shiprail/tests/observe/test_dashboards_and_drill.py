"""Dashboards are well-formed and cover RED, resources, business and SLOs; time compression
keeps rule logic; and the incident drill against real Prometheus and Alertmanager."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from observe_support import MONITORING, ROOT

from shiprail.observe.dashboards import check_dashboards, dashboard_queries, substitute
from shiprail.observe.drill import run_drill
from shiprail.observe.drill.compression import compress_expr, compress_rules
from shiprail.observe.drill.configs import alertmanager_config, write_targets
from shiprail.observe.drill.receiver import parse_notification

from conftest import require_tools

DASHBOARDS = MONITORING / "grafana" / "dashboards"


def test_dashboards_are_well_formed_and_cover_every_view() -> None:
    assert check_dashboards(DASHBOARDS) == []
    text = " ".join(expr for _, expr in dashboard_queries(DASHBOARDS))
    for needle in (
        "http_requests_total",
        "0.5,",
        "0.95,",
        "0.99,",
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "workorders_created_total",
        "workorders_open",
        "slo:error_budget:remaining",
    ):
        assert needle in text, needle
    provisioning = yaml.safe_load(
        (MONITORING / "grafana" / "provisioning" / "dashboards" / "shiprail.yaml").read_text()
    )
    assert provisioning["providers"][0]["type"] == "file"
    datasources = yaml.safe_load(
        (MONITORING / "grafana" / "provisioning" / "datasources" / "shiprail.yaml").read_text()
    )
    uids = {d["uid"] for d in datasources["datasources"]}
    for path in DASHBOARDS.glob("*.json"):
        for panel in json.loads(path.read_text())["panels"]:
            assert panel["datasource"]["uid"] in uids


def test_dashboard_check_finds_a_panel_without_a_query(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(
        json.dumps(
            {
                "uid": "a",
                "title": "A",
                "panels": [{"id": 1, "type": "timeseries", "title": "empty"}],
            }
        )
    )
    assert check_dashboards(tmp_path) == ["a.json: panel 'empty' has no query"]
    with pytest.raises(ValueError, match="unknown dashboard variable"):
        substitute('up{x="$nope"}')


def test_compression_divides_every_duration_and_keeps_the_logic() -> None:
    assert compress_expr("rate(x[5m]) / rate(y[1h:5m]) offset 30d", 60) == (
        "rate(x[5s]) / rate(y[1m:5s]) offset 12h"
    )
    rules = yaml.safe_load(
        compress_rules((MONITORING / "prometheus" / "alerts.yaml").read_text(), 60)
    )
    rule = rules["groups"][0]["rules"][0]
    assert rule["for"] == "5s" and "[5s]" in rule["expr"] and "> 0.05" in rule["expr"]
    assert rule["annotations"]["runbook_url"].endswith("HighErrorRate.md")


def test_drill_alertmanager_config_keeps_routes_and_hides_no_secret(tmp_path: Path) -> None:
    config = yaml.safe_load(
        alertmanager_config(
            (MONITORING / "alertmanager" / "alertmanager.yml").read_text(),
            receiver_url="http://127.0.0.1:9",
            secrets_dir=tmp_path,
            templates_dir=MONITORING / "alertmanager" / "templates",
        )
    )
    committed = yaml.safe_load((MONITORING / "alertmanager" / "alertmanager.yml").read_text())
    assert config["inhibit_rules"] == committed["inhibit_rules"]
    assert [r["matchers"] for r in config["route"]["routes"]] == [
        r["matchers"] for r in committed["route"]["routes"]
    ]
    assert (tmp_path / "slack-webhook-url").read_text().strip() == "http://127.0.0.1:9/slack"
    assert (tmp_path / "pagerduty-routing-key").stat().st_mode & 0o077 == 0


def test_targets_file_has_the_deploy_labels(tmp_path: Path) -> None:
    path = write_targets(tmp_path, "prod", "127.0.0.1:8001", "r7")
    (entry,) = json.loads(path.read_text())
    assert entry == {
        "targets": ["127.0.0.1:8001"],
        "labels": {
            "environment": "prod",
            "release": "r7",
            "colour": "blue",
            "service": "workorders",
        },
    }


def test_notifications_are_read_like_a_human_would() -> None:
    slack = {
        "attachments": [
            {
                "title": "[FIRING:1] HighErrorRate (critical) workorders in prod",
                "title_link": "https://x/docs/runbooks/HighErrorRate.md",
                "text": "*s*\nd\nRunbook: u\nLabels: severity=critical service=workorders \n",
            }
        ]
    }
    note = parse_notification("slack", slack, 1.0)
    assert (note.alertname, note.severity, note.status) == ("HighErrorRate", "critical", "firing")
    assert note.labels == {"severity": "critical", "service": "workorders"}
    pagerduty = {
        "event_action": "resolve",
        "payload": {
            "summary": "[RESOLVED] ApplicationDown (critical) workorders",
            "severity": "critical",
            "custom_details": {"runbook_url": "https://x/docs/runbooks/ApplicationDown.md"},
        },
    }
    note = parse_notification("pagerduty", pagerduty, 2.0)
    assert (note.alertname, note.status) == ("ApplicationDown", "resolved")


@pytest.mark.prometheus
def test_incident_drill(tmp_path: Path) -> None:
    """Real workorders, Prometheus and Alertmanager: faults in, the right pages out, on time."""
    require_tools("prometheus", "prometheus-alertmanager")
    result = run_drill(ROOT, tmp_path)
    delivered = {(d["alertname"], d["severity"], d["status"]) for d in result.deliveries}
    assert delivered == {
        ("HighErrorRate", "critical", "firing"),
        ("HighErrorRate", "critical", "resolved"),
        ("ErrorBudgetBurn", "critical", "firing"),
        ("HighResponseTime", "warning", "firing"),
        ("HighResponseTime", "warning", "resolved"),
        ("HighResponseTime", "critical", "firing"),
        ("HighResponseTime", "critical", "resolved"),
        ("ApplicationDown", "critical", "firing"),
        ("ApplicationDown", "critical", "resolved"),
    }
    for delivery in result.deliveries:
        # critical pages (PagerDuty + Slack); warning tickets (Slack + email, resolved too)
        wanted = ["email", "slack"] if delivery["severity"] == "warning" else ["pagerduty", "slack"]
        assert delivery["channels"] == wanted
        assert delivery["seconds"] <= delivery["promised_seconds"]
    assert result.panel_queries >= 20 and result.panel_errors == []
    assert "drill passed" in result.timeline.render()
