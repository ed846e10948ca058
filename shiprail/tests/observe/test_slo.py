"""SLOs as code: the generated numbers are the SRE workbook's, derived from the objective and
period; the committed rules are current; bad specs are reported with file and line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from observe_support import MONITORING
from typer.testing import CliRunner

from shiprail.cli import app
from shiprail.errors import ConfigError, Refused
from shiprail.observe import checks
from shiprail.observe.slo import generate, load_slos, render

from conftest import require_tools

SPEC = """\
version: 1
service: shop
slos:
  - name: availability
    objective: {objective}
    period: {period}
    sli:
      errors: sum(rate(http_requests_total{{status=~"5.."}}[{{{{window}}}}]))
      total: sum(rate(http_requests_total[{{{{window}}}}]))
"""


def _spec(tmp_path: Path, objective: float = 99.9, period: str = "30d") -> Path:
    directory = tmp_path / "slo"
    directory.mkdir(exist_ok=True)
    (directory / "shop.yaml").write_text(SPEC.format(objective=objective, period=period))
    return directory


def test_burn_rates_are_the_sre_workbook_numbers_for_30_days(tmp_path: Path) -> None:
    (slo,) = load_slos(_spec(tmp_path))
    alerts = [
        (a.burn_window, a.severity, a.long, a.short, a.factor, a.threshold)
        for a in slo.burn_alerts()
    ]
    assert alerts == [
        ("page", "critical", "1h", "5m", 14.4, 0.0144),
        ("page", "critical", "6h", "30m", 6.0, 0.006),
        ("ticket", "warning", "1d", "2h", 3.0, 0.003),
        ("ticket", "warning", "3d", "6h", 1.0, 0.001),
    ]
    assert slo.windows() == ["5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d"]


def test_factors_follow_the_period_and_objective(tmp_path: Path) -> None:
    (slo,) = load_slos(_spec(tmp_path, objective=99.5, period="28d"))
    factors = [a.factor for a in slo.burn_alerts()]
    assert factors == [13.44, 5.6, 2.8, pytest.approx(0.933333)]
    assert slo.burn_alerts()[0].threshold == pytest.approx(13.44 * 0.005)
    assert "28d" in slo.windows() and "30d" not in slo.windows()


def test_generated_rules_have_recordings_budget_and_routable_alerts(tmp_path: Path) -> None:
    rules = yaml.safe_load(render(load_slos(_spec(tmp_path))))
    recordings = {r["record"] for g in rules["groups"] for r in g["rules"] if "record" in r}
    for window in ("5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d"):
        assert f"slo:sli_error:ratio_rate{window}" in recordings
    assert {"slo:error_budget:remaining", "slo:objective:ratio"} <= recordings
    alerts = [r for g in rules["groups"] for r in g["rules"] if "alert" in r]
    labels = [a["labels"] for a in alerts]
    assert labels == [
        {
            "slo": "shop-availability",
            "service": "shop",
            "severity": "critical",
            "burn_window": "page",
        },
        {
            "slo": "shop-availability",
            "service": "shop",
            "severity": "warning",
            "burn_window": "ticket",
        },
    ]
    assert "> 0.0144" in alerts[0]["expr"] and "ratio_rate5m" in alerts[0]["expr"]
    assert alerts[0]["annotations"]["runbook_url"].endswith("docs/runbooks/ErrorBudgetBurn.md")


def test_committed_rules_are_current() -> None:
    """CI fails when someone edits monitoring/slo/ without regenerating."""
    result = generate(MONITORING / "slo", MONITORING / "prometheus" / "slo-rules.yaml", check=True)
    assert set(result.slos) == {"workorders-availability", "workorders-latency"}


def test_check_refuses_stale_rules_and_generate_fixes_them(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    rules = tmp_path / "rules.yaml"
    assert generate(spec, rules).changed
    assert not generate(spec, rules).changed
    _spec(tmp_path, objective=99.0)
    with pytest.raises(Refused, match="stale"):
        generate(spec, rules, check=True)
    runner = CliRunner()
    stale = runner.invoke(
        app, ["slo", "generate", "--check", "--slo-dir", str(spec), "--rules-file", str(rules)]
    )
    assert stale.exit_code == 1 and "stale" in stale.output
    fixed = runner.invoke(
        app, ["slo", "generate", "--slo-dir", str(spec), "--rules-file", str(rules)]
    )
    assert fixed.exit_code == 0, fixed.output
    assert "> 0.144" in rules.read_text()


def test_bad_spec_is_a_config_error_with_file_and_line(tmp_path: Path) -> None:
    directory = tmp_path / "slo"
    directory.mkdir()
    (directory / "x.yaml").write_text(
        "service: shop\nslos:\n  - name: a\n    objective: 120\n    sli:\n"
        "      errors: x[{{window}}]\n      total: y[{{window}}]\n"
    )
    with pytest.raises(ConfigError) as info:
        load_slos(directory)
    assert info.value.line == 4 and "objective" in str(info.value)
    (directory / "x.yaml").write_text(
        "service: shop\nslos:\n  - name: a\n    objective: 99\n    sli:\n"
        "      errors: rate(x[5m])\n      total: y[{{window}}]\n"
    )
    with pytest.raises(ConfigError, match="window"):
        load_slos(directory)


@pytest.mark.prometheus
def test_generated_rules_pass_promtool_and_the_slo_unit_tests(tmp_path: Path) -> None:
    require_tools("promtool")
    rules = tmp_path / "prometheus" / "slo-rules.yaml"
    generate(MONITORING / "slo", rules)
    assert checks.promtool_check_rules([rules]).ok
    # The committed unit tests, run against freshly generated rules.
    tests = tmp_path / "prometheus" / "tests"
    tests.mkdir()
    shutil.copy(MONITORING / "prometheus" / "tests" / "slo.test.yaml", tests)
    result = checks.promtool_test_rules([tests / "slo.test.yaml"])
    assert result.ok, result.output
