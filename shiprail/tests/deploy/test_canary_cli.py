"""The commands a person uses on a running canary, as docs/releases.md shows them:
``shiprail status``, ``shiprail abort ENV --reason``, ``shiprail promote ENV --skip-analysis``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shiprail.cli import app
from shiprail.deploy import progress
from shiprail.deploy.ledger import Ledger
from shiprail.deploy.states import Action

runner = CliRunner()


def _env(tmp_path: Path, actor: str = "alice") -> dict[str, str]:
    return {
        "SHIPRAIL_DATABASE_URL": f"sqlite:///{tmp_path / 'state.db'}",
        "SHIPRAIL_STATE_DIR": str(tmp_path / "state"),
        "SHIPRAIL_ACTOR": actor,
    }


@pytest.fixture
def rollout(tmp_path: Path) -> tuple[Ledger, str]:
    """A canary of dev at step 2 (25 %), as a running deploy records it."""
    ledger = Ledger(f"sqlite:///{tmp_path / 'state.db'}")
    ledger.migrate()
    release = ledger.create_release(
        environment="dev", image="workorders:2", image_digest="sha256:def", git_sha="def",
        created_by="carol", colour="green",
    )  # fmt: skip
    attempt = ledger.begin_attempt(
        environment="dev", release_id=release.id, action=Action.deploy, actor="carol"
    )
    progress.start(ledger, attempt, "dev", release.id, "canary")
    progress.update(ledger, attempt, phase=progress.Phase.progressing, step=2, weight=25)
    return ledger, release.id


def test_status_shows_the_step_and_weights(tmp_path: Path, rollout: tuple[Ledger, str]) -> None:
    _, release_id = rollout
    result = runner.invoke(app, ["status", "dev", "--json"], env=_env(tmp_path))
    assert result.exit_code == 0, result.output
    row = json.loads(result.stdout)[0]
    assert row["rollout"]["release_id"] == release_id
    assert row["rollout"]["step"] == 2 and row["rollout"]["weight"] == 25
    human = runner.invoke(app, ["status", "dev"], env=_env(tmp_path))
    assert "25%" in human.output and release_id in human.output


def test_abort_is_recorded_with_who_and_why(tmp_path: Path, rollout: tuple[Ledger, str]) -> None:
    ledger, _ = rollout
    result = runner.invoke(
        app, ["abort", "dev", "--reason", "support tickets about exports"], env=_env(tmp_path)
    )
    assert result.exit_code == 0, result.output
    state = progress.in_progress(ledger, "dev")
    assert state is not None and state.requested == progress.Request.abort
    assert state.requested_by == "alice" and state.request_reason == "support tickets about exports"
    # the first request wins: a promotion asked afterwards is refused and says why
    late = runner.invoke(
        app,
        ["promote", "dev", "--skip-analysis", "--reason", "hotfix, verified by hand"],
        env=_env(tmp_path, "bob"),
    )
    assert late.exit_code == 2
    assert "abort was already requested" in late.output and "alice" in late.output


def test_skip_analysis_is_recorded(tmp_path: Path, rollout: tuple[Ledger, str]) -> None:
    ledger, _ = rollout
    result = runner.invoke(
        app,
        ["promote", "dev", "--skip-analysis", "--reason", "hotfix, verified by hand"],
        env=_env(tmp_path, "bob"),
    )
    assert result.exit_code == 0, result.output
    state = progress.in_progress(ledger, "dev")
    assert state is not None and state.requested == progress.Request.skip_analysis
    assert state.requested_by == "bob"


def test_without_a_canary_in_progress_the_request_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["abort", "dev", "--reason", "why"], env=_env(tmp_path))
    assert result.exit_code == 2
    assert "no canary rollout is in progress in dev" in result.output
    blank = runner.invoke(app, ["abort", "dev", "--reason", " "], env=_env(tmp_path))
    assert blank.exit_code == 2 and "--reason" in blank.output
