"""Log shipping (Promtail -> Loki) and the log-based alert: checked as far as the tools here
allow (Loki and Promtail cannot run here): structure, schema, labels and the runbook."""

from __future__ import annotations

import yaml
from observe_support import MONITORING, ROOT

from shiprail.observe import checks

from conftest import unavailable

LOKI = MONITORING / "loki"


def test_log_alert_has_the_rule_shape_severity_and_runbook() -> None:
    rules = LOKI / "rules" / "workorders.yaml"
    directory = checks.schemas_dir(ROOT)
    if not (directory / "prometheus.rules.json").is_file():
        unavailable(f"schema data in {directory} (scripts/fetch-data.sh schemas)")
    assert checks.schema_problems(rules, "rules", directory) == []
    (rule,) = yaml.safe_load(rules.read_text())["groups"][0]["rules"]
    assert rule["alert"] == "ErrorLogRate" and rule["labels"]["severity"] == "warning"
    assert '| json | level="error"' in rule["expr"]
    assert (ROOT / "docs" / "runbooks" / "ErrorLogRate.md").is_file()


def test_promtail_labels_logs_like_the_metrics_and_ships_to_loki() -> None:
    promtail = yaml.safe_load((LOKI / "promtail-config.yaml").read_text())
    assert promtail["clients"][0]["url"].endswith("/loki/api/v1/push")
    job = promtail["scrape_configs"][0]
    targets = {r["target_label"] for r in job["relabel_configs"]}
    assert {"service", "environment", "release", "colour"} <= targets
    loki = yaml.safe_load((LOKI / "loki-config.yaml").read_text())
    assert loki["ruler"]["alertmanager_url"].startswith("http://alertmanager:9093")


def test_edge_ban_alert_reads_the_fields_the_edge_logs() -> None:
    """EdgeAuthBan's LogQL filters on fields the edge's log_format really writes, and
    Promtail ships the edge's container under the job the rule selects."""
    from shiprail.deploy.routers.edge_bans import BANNED_STATUS
    from shiprail.deploy.routers.nginx_conf import render_main_conf

    rules = LOKI / "rules" / "edge.yaml"
    directory = checks.schemas_dir(ROOT)
    if not (directory / "prometheus.rules.json").is_file():
        unavailable(f"schema data in {directory} (scripts/fetch-data.sh schemas)")
    assert checks.schema_problems(rules, "rules", directory) == []
    (rule,) = yaml.safe_load(rules.read_text())["groups"][0]["rules"]
    assert rule["alert"] == "EdgeAuthBan"
    assert f'| json | auth="failed" | status="{BANNED_STATUS}"' in rule["expr"]
    log_format = render_main_conf()
    for field in ('"auth":"$shiprail_auth"', '"status":$status', '"site":"$shiprail_site"'):
        assert field in log_format, field
    jobs = {
        j["job_name"]: j
        for j in yaml.safe_load((LOKI / "promtail-config.yaml").read_text())["scrape_configs"]
    }
    edge = jobs["shiprail-edge"]
    assert edge["docker_sd_configs"][0]["filters"][0]["values"] == ["io.shiprail.role=edge"]
    assert '{job="shiprail-edge"}' in rule["expr"]
    assert (ROOT / "docs" / "runbooks" / "EdgeAuthBan.md").is_file()
