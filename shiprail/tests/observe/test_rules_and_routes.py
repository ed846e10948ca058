"""The committed alert rules, SLO rules, Prometheus and Alertmanager configuration, checked by
promtool and amtool (the real tools) and by the published JSON schemas."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from observe_support import MONITORING, ROOT

from shiprail.observe import checks

from conftest import require_tools, unavailable

pytestmark = pytest.mark.prometheus

SEED_ALERTS = {
    "HighErrorRate",
    "HighResponseTime",
    "ApplicationDown",
    "HighMemoryUsage",
    "HighCPUUsage",
}
RULE_FILES = [
    MONITORING / "prometheus" / "alerts.yaml",
    MONITORING / "prometheus" / "slo-rules.yaml",
]
TEST_FILES = sorted((MONITORING / "prometheus" / "tests").glob("*.test.yaml"))
AM_CONFIG = MONITORING / "alertmanager" / "alertmanager.yml"


def _alert_rules() -> list[tuple[str, dict]]:
    rules = []
    for path in RULE_FILES:
        for group in yaml.safe_load(path.read_text())["groups"]:
            rules += [(group["name"], r) for r in group["rules"] if "alert" in r]
    return rules


def test_promtool_accepts_the_rules() -> None:
    require_tools("promtool")
    result = checks.promtool_check_rules(RULE_FILES)
    assert result.ok, result.output
    assert "SUCCESS: 10 rules found" in result.output


def test_promtool_unit_tests_pass_for_every_alert_group() -> None:
    require_tools("promtool")
    tested = set()
    for path in TEST_FILES:
        tested |= {Path(f).name for f in yaml.safe_load(path.read_text())["rule_files"]}
        text = path.read_text()
        tested |= set(re.findall(r"alertname: (\w+)", text))
    # Every group of alerts.yaml has a test file, and every alert is tested.
    groups = {g for g, _ in _alert_rules() if not g.startswith("slo-")}
    names = {f"{g.split('-', 1)[1]}.test.yaml" for g in groups}
    assert names <= {p.name for p in TEST_FILES}
    assert {r["alert"] for _, r in _alert_rules()} <= tested
    result = checks.promtool_test_rules(TEST_FILES)
    assert result.ok, result.output
    assert result.output.count("SUCCESS") == len(TEST_FILES)


def test_promtool_rejects_a_broken_rule(tmp_path: Path) -> None:
    require_tools("promtool")
    broken = tmp_path / "broken.yaml"
    broken.write_text("groups:\n- name: x\n  rules:\n  - alert: X\n    expr: rate(foo[5m]\n")
    result = checks.promtool_check_rules([broken])
    assert not result.ok and "unclosed" in result.output.lower()


def test_seed_alerts_follow_the_conventions() -> None:
    rules = _alert_rules()
    assert {r["alert"] for _, r in rules} >= SEED_ALERTS
    for _, rule in rules:
        name = rule["alert"]
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]
        assert rule["annotations"]["runbook_url"].endswith(f"docs/runbooks/{name}.md")
        if name in SEED_ALERTS:
            assert "for" in rule
        runbook = (ROOT / "docs" / "runbooks" / f"{name}.md").read_text()
        for section in ("## Meaning", "## Impact", "## Diagnosis", "## Mitigation"):
            assert section in runbook, (name, section)
        assert "shiprail rollback" in runbook


def test_prometheus_config_is_valid_and_reads_the_deploy_targets() -> None:
    require_tools("promtool")
    config = MONITORING / "prometheus" / "prometheus.yml"
    result = checks.promtool_check_config(config)
    assert result.ok, result.output
    data = yaml.safe_load(config.read_text())
    job = next(j for j in data["scrape_configs"] if j["job_name"] == "workorders")
    files = job["file_sd_configs"][0]["files"]
    assert files == ["../../.shiprail/monitoring/targets/*.json"]
    assert (config.parent / files[0]).resolve().parent == ROOT / ".shiprail/monitoring/targets"


def test_amtool_accepts_the_alertmanager_config() -> None:
    require_tools("amtool")
    result = checks.amtool_check_config(AM_CONFIG)
    assert result.ok, result.output
    assert "3 inhibit rules" in result.output


@pytest.mark.parametrize(
    "case",
    yaml.safe_load((MONITORING / "alertmanager" / "routes.test.yaml").read_text()),
    ids=lambda c: f"{c['labels'].get('alertname')}-{c['labels'].get('severity', 'none')}",
)
def test_amtool_routes_each_severity(case: dict) -> None:
    require_tools("amtool")
    result = checks.amtool_route(AM_CONFIG, case["labels"], case["receivers"])
    assert result.ok, result.output


def test_amtool_catches_a_wrong_route() -> None:
    require_tools("amtool")
    result = checks.amtool_route(AM_CONFIG, {"severity": "info", "alertname": "X"}, ["critical"])
    assert not result.ok


def test_receivers_send_what_the_issue_asks() -> None:
    config = yaml.safe_load(AM_CONFIG.read_text())
    receivers = {r["name"]: r for r in config["receivers"]}
    critical, warning = receivers["critical"], receivers["warning"]
    assert "routing_key_file" in critical["pagerduty_configs"][0]  # the key is never inline
    assert critical["slack_configs"] and "email_configs" not in critical
    assert all(c["send_resolved"] for c in warning["slack_configs"] + warning["email_configs"])
    assert set(receivers["null"]) == {"name"}
    assert config["route"]["group_by"] == ["alertname", "service"]
    inhibit = config["inhibit_rules"]
    assert {"alertname", "service"} <= set(inhibit[0]["equal"])
    assert 'burn_window="page"' in inhibit[1]["source_matchers"]
    text = AM_CONFIG.read_text()
    assert "runbook" in text and not re.search(r"routing_key:\s|api_url:\s", text)


def test_notification_templates_render_with_amtool() -> None:
    require_tools("amtool")
    templates = MONITORING / "alertmanager" / "templates" / "*.tmpl"
    for name in (
        "shiprail.title",
        "shiprail.runbook",
        "shiprail.slack.text",
        "shiprail.email.html",
    ):
        result = checks.amtool_render(templates, f'{{{{ template "{name}" . }}}}')
        assert result.ok, (name, result.output)


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        (MONITORING / "prometheus" / "prometheus.yml", "prometheus"),
        (MONITORING / "prometheus" / "alerts.yaml", "rules"),
        (MONITORING / "prometheus" / "slo-rules.yaml", "rules"),
        (AM_CONFIG, "alertmanager"),
        *((p, "rules-test") for p in TEST_FILES),
    ],
    ids=lambda v: v.name if isinstance(v, Path) else v,
)
def test_files_match_the_published_schemas(path: Path, kind: str) -> None:
    directory = checks.schemas_dir(ROOT)
    if not (directory / checks.SCHEMAS[kind]).is_file():
        unavailable(f"schema data in {directory} (scripts/fetch-data.sh schemas)")
    assert checks.schema_problems(path, kind, directory) == []


def test_schema_check_reports_a_bad_alertmanager_key(tmp_path: Path) -> None:
    directory = checks.schemas_dir(ROOT)
    if not (directory / "prometheus-alertmanager.json").is_file():
        unavailable(f"schema data in {directory} (scripts/fetch-data.sh schemas)")
    bad = tmp_path / "am.yml"
    bad.write_text("route:\n  receiver: x\n  group_wait: 5\nreceivers:\n- name: x\n")
    problems = checks.schema_problems(bad, "alertmanager", directory)
    assert problems and "group_wait" in " ".join(problems)
