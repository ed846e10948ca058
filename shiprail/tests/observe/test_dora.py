"""DORA's four keys on ledger histories with known answers, on SQLite and PostgreSQL.

Each history is written through the real ledger API at times a fake clock sets, with a fake
git that knows each commit's time; the figures are then exact.
"""

from __future__ import annotations

from datetime import timedelta

import dora_support
import pytest
from dora_support import T0, Commits, HistoryWriter

from shiprail.observe.dora import DoraReport, dora_report, levels
from shiprail.observe.dora.levels import DAY, HOUR, Level
from shiprail.observe.dora.report import p90
from shiprail.observe.settings import DoraTargets

# the fixtures every history test uses (a ledger on each database, its clock, a writer)
any_ledger = dora_support.any_ledger
fake_clock = dora_support.fake_clock
writer = dora_support.writer


def report(history: HistoryWriter, commits: Commits, days: float = 90) -> DoraReport:
    """The report of the ``days`` ending ``days`` after T0 (everything written is inside)."""
    return dora_report(
        history.ledger,
        history.env,
        commit_times=commits,
        period=timedelta(days=days),
        now=T0 + timedelta(days=days),
    )


def values(result: DoraReport) -> dict[str, float | None]:
    return {m.key: m.value for m in result.metrics}


def test_an_empty_ledger_gives_no_figure_and_no_division_by_zero(writer: HistoryWriter) -> None:
    result = report(writer, Commits())
    assert values(result) == {
        "deployment_frequency": 0.0,
        "lead_time": None,
        "change_failure_rate": None,
        "time_to_restore": None,
    }
    assert {m.level for m in result.metrics} == {Level.none}
    assert [row[1] for row in result.rows()][1:] == ["n/a", "n/a", "n/a"]
    data = result.as_json()
    assert data["change_failure_rate"]["target"] == {"at_most": 0.15, "met": None}
    assert data["deployment_frequency"]["deployments"] == 0


def test_one_deploy(writer: HistoryWriter) -> None:
    commits = Commits()
    commits.add("a1b2c3d4", minutes=-90)
    writer.deploy(at=0, sha="a1b2c3d4", minutes=2)  # live 92 minutes after the commit
    result = report(writer, commits)
    assert values(result) == {
        "deployment_frequency": 1 / 90,
        "lead_time": 92 * 60,
        "change_failure_rate": 0.0,
        "time_to_restore": None,
    }
    assert result.metric("lead_time").details["p90_seconds"] == 92 * 60
    assert [m.level for m in result.metrics] == [Level.low, Level.elite, Level.elite, Level.none]
    assert result.metric("deployment_frequency").met is False
    assert result.metric("lead_time").met is True


def test_daily_deploys_with_known_lead_times(writer: HistoryWriter) -> None:
    commits = Commits()
    for day in range(10):  # lead times 1 h, 2 h, ... 10 h
        sha = f"{day:07x}f"
        commits.add(sha, minutes=day * 1440 - (day + 1) * 60)
        writer.deploy(at=day * 1440, sha=sha, minutes=0)
    result = report(writer, commits, days=10)
    lead = result.metric("lead_time")
    assert lead.value == 5.5 * HOUR and lead.details["p90_seconds"] == 9 * HOUR
    assert lead.details == {"p90_seconds": 9 * HOUR, "measured": 10, "unknown": 0, "skewed": 0}
    frequency = result.metric("deployment_frequency")
    assert frequency.value == 1.0 and frequency.details["per_week"] == 7.0
    assert frequency.level == Level.high and frequency.met is True


def test_a_manual_rollback_is_a_change_failure_restored_when_it_ends(
    writer: HistoryWriter,
) -> None:
    a = writer.deploy(at=0, sha="aaaaaaa")
    writer.deploy(at=60, sha="bbbbbbb")
    writer.deploy(at=120, sha="ccccccc")
    writer.rollback(at=200, to=a, minutes=5)
    result = report(writer, Commits())
    assert result.metric("change_failure_rate").value == pytest.approx(1 / 3)
    assert result.metric("change_failure_rate").details["by_kind"] == {"rollback": 1}
    assert result.metric("time_to_restore").value == 5 * 60
    assert result.metric("lead_time").details["unknown"] == 3


def test_a_rollback_of_a_rollback_is_not_counted_twice(writer: HistoryWriter) -> None:
    a = writer.deploy(at=0, sha="aaaaaaa")
    b = writer.deploy(at=60, sha="bbbbbbb")
    writer.rollback(at=100, to=a, minutes=2)  # b is blamed
    writer.rollback(at=130, to=b, minutes=2)  # that was a mistake: undo the rollback
    writer.rollback(at=160, to=a, minutes=4)  # no: b is bad after all (already counted)
    result = report(writer, Commits())
    rate = result.metric("change_failure_rate")
    assert rate.value == 0.5 and rate.details["failed"] == 1
    restore = result.metric("time_to_restore")
    assert restore.value == 2 * 60 and restore.details == {"restored": 1, "unresolved": 0}


def test_a_failed_watch_rolled_back_automatically(writer: HistoryWriter) -> None:
    writer.deploy(at=0, sha="aaaaaaa")
    writer.failed_watch(at=60, sha="bbbbbbb", minutes=3)  # rollback ends 30 s after
    writer.failed_health(at=90, sha="ccccccc")  # never served: no deployment, no failure
    result = report(writer, Commits())
    assert result.metric("deployment_frequency").details["deployments"] == 1
    rate = result.metric("change_failure_rate")
    assert rate.value == 0.5 and rate.details["by_kind"] == {"automatic-rollback": 1}
    assert result.metric("time_to_restore").value == 30


def test_an_aborted_canary_is_a_failure_for_as_long_as_it_served(
    writer: HistoryWriter,
) -> None:
    writer.deploy(at=0, sha="aaaaaaa")
    writer.deploy(at=30, sha="bbbbbbb")
    writer.deploy(at=60, sha="ccccccc")
    writer.aborted_canary(at=100, sha="ddddddd", minutes=12)
    result = report(writer, Commits())
    rate = result.metric("change_failure_rate")
    assert rate.value == 0.25 and rate.details["by_kind"] == {"aborted-canary": 1}
    assert result.metric("time_to_restore").value == 12 * 60
    assert result.metric("deployment_frequency").details["deployments"] == 3


def test_incidents_count_once_per_release_and_the_earliest_failure_wins(
    writer: HistoryWriter,
) -> None:
    writer.deploy(at=0, sha="aaaaaaa")
    b = writer.deploy(at=60, sha="bbbbbbb")
    writer.incident(at=100, resolved_after=90)  # blames b, the live release
    writer.incident(at=120, resolved_after=10, release=b)  # b again: no second failure
    c = writer.deploy(at=300, sha="ccccccc")
    writer.incident(at=400, resolved_after=None, release=c)  # still open
    result = report(writer, Commits())
    rate = result.metric("change_failure_rate")
    assert rate.value == pytest.approx(2 / 3) and rate.details["by_kind"] == {"incident": 2}
    restore = result.metric("time_to_restore")
    assert restore.value == 90 * 60 and restore.details == {"restored": 1, "unresolved": 1}
    assert restore.level == Level.high


def test_a_commit_dated_after_the_deploy_is_clamped_and_counted_as_skewed(
    writer: HistoryWriter,
) -> None:
    commits = Commits()
    commits.add("aaaaaaa", minutes=-60)  # 62 min
    commits.add("bbbbbbb", minutes=300)  # git's clock says: 4 hours after it went live
    commits.add("ccccccc", minutes=100)  # 22 min
    writer.deploy(at=0, sha="aaaaaaa")
    writer.deploy(at=60, sha="bbbbbbb")
    writer.deploy(at=120, sha="ccccccc")
    writer.deploy(at=180, sha="not-a-commit")
    lead = report(writer, commits).metric("lead_time")
    assert lead.value == 22 * 60
    assert lead.details == {"p90_seconds": 62 * 60, "measured": 3, "unknown": 1, "skewed": 1}


def test_a_failure_of_a_release_deployed_before_the_period(writer: HistoryWriter) -> None:
    """The release serving when the period starts is known, so rolling it back is a failure
    (its time to restore counts), but not a change failure of the period's deployments."""
    old = writer.deploy(at=0, sha="aaaaaaa")
    writer.deploy(at=2 * 1440, sha="bbbbbbb")
    writer.rollback(at=5 * 1440, to=old, minutes=3)
    result = dora_report(
        writer.ledger, writer.env, commit_times=Commits(), period=timedelta(days=3),
        now=T0 + timedelta(days=6),
    )  # fmt: skip
    assert result.metric("deployment_frequency").details["deployments"] == 0
    assert result.metric("change_failure_rate").value is None
    assert result.metric("time_to_restore").value == 3 * 60


def test_targets_are_read_from_the_dora_section() -> None:
    from shiprail.config import ShiprailConfig

    config = ShiprailConfig.model_validate({"dora": {"change_failure_rate_percent": 5}})
    assert config.dora == DoraTargets(change_failure_rate_percent=5)
    with pytest.raises(ValueError, match="less than or equal to 100"):
        DoraTargets(change_failure_rate_percent=120)


@pytest.mark.parametrize(
    ("function", "value", "level"),
    [
        (levels.deployment_frequency, 3.0, Level.elite),
        (levels.deployment_frequency, 1.0, Level.high),
        (levels.deployment_frequency, 1 / 7, Level.high),
        (levels.deployment_frequency, 1 / 8, Level.medium),
        (levels.deployment_frequency, 1 / 30, Level.medium),
        (levels.deployment_frequency, 1 / 31, Level.low),
        (levels.lead_time, DAY - 1, Level.elite),
        (levels.lead_time, 7 * DAY, Level.high),
        (levels.lead_time, 30 * DAY, Level.medium),
        (levels.lead_time, 31 * DAY, Level.low),
        (levels.change_failure_rate, 0.05, Level.elite),
        (levels.change_failure_rate, 0.10, Level.high),
        (levels.change_failure_rate, 0.15, Level.medium),
        (levels.change_failure_rate, 0.16, Level.low),
        (levels.time_to_restore, HOUR - 1, Level.elite),
        (levels.time_to_restore, DAY - 1, Level.high),
        (levels.time_to_restore, 7 * DAY, Level.medium),
        (levels.time_to_restore, 8 * DAY, Level.low),
    ],
)
def test_dora_2023_bands(function, value, level) -> None:  # type: ignore[no-untyped-def]
    assert function(value) == level


def test_p90_is_the_nearest_rank() -> None:
    assert p90([5.0]) == 5.0
    assert p90([float(v) for v in range(1, 21)]) == 18.0
    assert p90([]) is None


def test_incident_resolution_names_one_incident(writer: HistoryWriter) -> None:
    from shiprail.errors import UsageError

    writer.deploy(at=0, sha="aaaaaaa")
    book = writer.incidents
    first = book.open(writer.env, "exports fail", "carol")
    book.open(writer.env, "search is slow", "dave", release_id=first.release_id)
    with pytest.raises(UsageError, match="2 open incidents"):
        book.resolve(writer.env, "carol")
    done = book.resolve(writer.env, "carol", first.id)
    assert done.resolved_by == "carol" and not done.open
    with pytest.raises(UsageError, match="already resolved"):
        book.resolve(writer.env, "carol", first.id)
    with pytest.raises(UsageError, match="needs a summary"):
        book.open(writer.env, "  ", "carol")
    assert [i.summary for i in book.list(writer.env)] == ["search is slow", "exports fail"]
    assert "open" in book.list(writer.env)[0].line()
