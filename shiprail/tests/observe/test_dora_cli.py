"""The DORA commands as a user runs them: every command docs/dora.md shows, ``dora --json``
on a real git repository, the incident commands, ``metrics serve`` scraped over HTTP and the
node_exporter textfile, both parsed with prometheus_client's parser."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from dora_support import Clock, HistoryWriter
from observe_support import ROOT
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from shiprail.cli import app
from shiprail.deploy.ledger import Ledger
from shiprail.observe.drill.configs import free_port

from conftest import wait_until

DOC = ROOT / "docs" / "dora.md"


def doc_commands() -> list[list[str]]:
    """The ``$ shiprail ...`` lines of the doc's console blocks, as argument lists."""
    return [
        shlex.split(line.removeprefix("$ shiprail "))
        for line in DOC.read_text().splitlines()
        if line.startswith("$ shiprail ")
    ]


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str, HistoryWriter]:
    """A git repository with one commit made 60 minutes before a prod deploy of it, a day
    ago; shiprail runs there with its own ledger, as alice."""
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    committed = start - timedelta(minutes=60)
    git_env = {
        "GIT_COMMITTER_DATE": committed.isoformat(),
        "GIT_AUTHOR_DATE": committed.isoformat(),
        "GIT_AUTHOR_NAME": "a",
        "GIT_AUTHOR_EMAIL": "a@example.org",
        "GIT_COMMITTER_NAME": "a",
        "GIT_COMMITTER_EMAIL": "a@example.org",
        "HOME": str(tmp_path),
    }
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "shiprail.yaml").write_text("version: 1\n")
    subprocess.run(["git", "-C", str(tmp_path), "add", "shiprail.yaml"], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "commit", "-qm", "first"], check=True, env=git_env)
    sha = subprocess.run(
        ["git", "-C", str(tmp_path), "rev-parse", "HEAD"], check=True, capture_output=True,
        text=True,
    ).stdout.strip()  # fmt: skip
    url = f"sqlite:///{tmp_path / '.shiprail' / 'state.db'}"
    for name, value in {"SHIPRAIL_ROOT": str(tmp_path), "SHIPRAIL_DATABASE_URL": url,
                        "SHIPRAIL_ACTOR": "alice"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    ledger = Ledger(url)
    ledger.migrate()
    clock = Clock(start)
    monkeypatch.setattr("shiprail.deploy.ledger.utcnow", clock)
    history = HistoryWriter(ledger, clock, env="prod")
    history.deploy(at=0, sha=sha, minutes=2)  # lead time: 62 minutes
    history.deploy(at=30, sha=sha[:12], minutes=4)  # an abbreviated sha: 94 minutes
    history.deploy(at=60, sha="0" * 40, minutes=1)  # a commit git does not know
    # the commands under test run on the real clock
    monkeypatch.setattr("shiprail.deploy.ledger.utcnow", lambda: datetime.now(UTC))
    return tmp_path, sha, history


def run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, (args, result.output)
    return result.stdout


def test_dora_json_measures_the_lead_time_from_git(repo) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(run("dora", "--json"))
    assert data["environment"] == "prod" and data["period_days"] == 90.0
    lead = data["lead_time"]
    assert lead["value"] == 78 * 60 and lead["p90_seconds"] == 94 * 60
    assert (lead["measured"], lead["unknown"], lead["skewed"]) == (2, 1, 0)
    assert lead["level"] == "elite" and lead["target"] == {"at_most": 86400.0, "met": True}
    assert data["deployment_frequency"]["deployments"] == 3
    assert data["change_failure_rate"]["value"] == 0.0
    assert data["time_to_restore"]["value"] is None and data["time_to_restore"]["level"] == "n/a"
    bad = CliRunner().invoke(app, ["dora", "--since", "ninety days"])
    assert bad.exit_code == 2 and "is not a duration" in bad.output


def test_incidents_are_recorded_with_the_actor_and_counted(repo) -> None:  # type: ignore[no-untyped-def]
    _root, _sha, history = repo
    opened = json.loads(run("incident", "open", "prod", "--summary", "exports fail", "--json"))
    assert opened["release_id"] == history.live and opened["opened_by"] == "alice"
    assert json.loads(run("dora", "--json"))["change_failure_rate"]["by_kind"] == {"incident": 1}
    resolved = json.loads(run("incident", "resolve", "prod", "--json"))
    assert resolved["id"] == opened["id"] and resolved["resolved_by"] == "alice"
    listed = json.loads(run("incident", "list", "--json"))["incidents"]
    assert [i["id"] for i in listed] == [opened["id"]] and listed[0]["resolved_at"]
    again = CliRunner().invoke(app, ["incident", "resolve", "prod"])
    assert again.exit_code == 2 and "no open incident in prod" in again.output
    unknown = CliRunner().invoke(app, ["incident", "open", "prod", "--summary", "x",
                                       "--release", "r-nope"])  # fmt: skip
    assert unknown.exit_code == 2 and "never deployed to prod" in unknown.output


def _families(text: str) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    return {
        family.name: {tuple(sorted(s.labels.items())): s.value for s in family.samples}
        for family in text_string_to_metric_families(text)
    }


def _check_exported(text: str, failure_rate: float = 0.0) -> None:
    """What the repo's history gives; no failure restored yet unless ``failure_rate``."""
    families = _families(text)
    prod = (("environment", "prod"),)
    assert families["shiprail_dora_lead_time_seconds"][prod] == 78 * 60
    assert families["shiprail_dora_deployment_frequency_per_day"][prod] == pytest.approx(3 / 90)
    assert families["shiprail_dora_change_failure_rate"][prod] == failure_rate
    restore = families["shiprail_dora_time_to_restore_seconds"]
    assert (prod in restore) is bool(failure_rate)  # n/a is not exported
    level = families["shiprail_dora_level"]
    assert level[(("environment", "prod"), ("metric", "lead_time"))] == 4
    target = families["shiprail_dora_target"]
    assert target[(("environment", "prod"), ("metric", "change_failure_rate"))] == 0.15
    unknown = (("environment", "prod"), ("kind", "lead_time_unknown"))
    assert families["shiprail_dora_events"][unknown] == 1


def test_every_command_of_the_doc_runs(repo) -> None:  # type: ignore[no-untyped-def]
    commands = doc_commands()
    assert len(commands) == 7
    for args in commands:
        if args[:2] != ["metrics", "serve"]:  # a server: run by the test below
            run(*args)
    written = (repo[0] / ".shiprail" / "metrics" / "dora.prom").read_text()
    _check_exported(written, failure_rate=1 / 3)  # the doc opened an incident
    assert not list((repo[0] / ".shiprail" / "metrics").glob("*.prom.*"))  # no temporary left
    bad = CliRunner().invoke(app, ["metrics", "write", "--textfile", "dora.txt"])
    assert bad.exit_code == 2 and "*.prom" in bad.output


def test_metrics_serve_exports_the_figures_at_each_scrape(repo) -> None:  # type: ignore[no-untyped-def]
    (serve,) = [args for args in doc_commands() if args[:2] == ["metrics", "serve"]]
    port = free_port()
    url = f"http://127.0.0.1:{port}/metrics"
    process = subprocess.Popen(
        [sys.executable, "-m", "shiprail.cli", *serve, "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip

    def scrape() -> str | None:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return str(response.read().decode())
        except OSError:
            return None

    try:
        wait_until(lambda: scrape() is not None, 60, what=f"shiprail metrics serve on {url}")
        _check_exported(scrape() or "")
        run("incident", "open", "prod", "--summary", "exports fail")  # seen at the next scrape
        families = _families(scrape() or "")
        assert families["shiprail_dora_change_failure_rate"][(("environment", "prod"),)] == 1 / 3
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_the_dashboard_and_the_alert_use_only_exported_gauges(repo) -> None:  # type: ignore[no-untyped-def]
    """A typo in a gauge name would show "No data" or silence the alert; the names in the
    dashboard and the rules must be the names ``metrics write`` exports."""
    import re

    from shiprail.observe.dashboards import check_dashboards, dashboard_queries

    run("metrics", "write", "--textfile", "dora.prom")
    exported = set(_families((repo[0] / "dora.prom").read_text()))
    dashboards = ROOT / "monitoring" / "grafana" / "dashboards"
    assert check_dashboards(dashboards) == []
    queries = " ".join(e for where, e in dashboard_queries(dashboards) if where.startswith("dora"))
    alerts = (ROOT / "monitoring" / "prometheus" / "alerts.yaml").read_text()
    used = set(re.findall(r"shiprail_dora_\w+", queries + alerts))
    assert used <= exported, used - exported
    for key in ("deployment_frequency_per_day", "lead_time_seconds", "change_failure_rate",
                "time_to_restore_seconds", "level"):  # fmt: skip
        assert f"shiprail_dora_{key}" in queries
