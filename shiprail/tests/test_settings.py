"""The settings object: every variable parsed once, and documented in exactly one table."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from shiprail.paths import repo_root
from shiprail.settings import VARIABLES, Settings, get_settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "settings.md"


def documented_variables() -> list[str]:
    """The first column of the table under "## Environment variables" in docs/settings.md."""
    section = DOC.read_text().split("## Environment variables", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([A-Z_]+)` \|", section, flags=re.MULTILINE)


def test_every_field_has_one_variable():
    assert set(VARIABLES) == {f.name for f in dataclasses.fields(Settings)}
    assert len(set(VARIABLES.values())) == len(VARIABLES)


def test_the_table_lists_exactly_the_settings_variables():
    documented = documented_variables()
    assert len(documented) == len(set(documented)), "a variable is listed twice"
    assert set(documented) == set(VARIABLES.values())


def test_values_are_parsed_and_blanks_are_unset():
    settings = Settings.from_environ(
        {
            "SHIPRAIL_ROOT": "/srv/repo",
            "SHIPRAIL_DATABASE_URL": "postgresql+psycopg://u:pw@db/ledger",
            "SHIPRAIL_ACTOR": "  ",
            "GITHUB_ACTOR": "ci-bot",
            "SHIPRAIL_VERBOSE": "1",
            "SHIPRAIL_SCAN_CACHE": "",
        }
    )
    assert settings.root == Path("/srv/repo")
    assert settings.database_url == "postgresql+psycopg://u:pw@db/ledger"
    assert settings.actor is None and settings.github_actor == "ci-bot"
    assert settings.verbose is True and settings.scan_cache is None
    assert Settings.from_environ({}) == Settings()


def test_the_ledger_url_never_appears_in_a_repr():
    settings = Settings.from_environ({"SHIPRAIL_DATABASE_URL": "postgresql://u:secret@db/x"})
    assert "secret" not in repr(settings)


def test_get_settings_reads_the_process_environment_once(monkeypatch, tmp_path):
    monkeypatch.setenv("SHIPRAIL_ROOT", str(tmp_path))
    assert repo_root() == tmp_path.resolve()
    monkeypatch.setenv("SHIPRAIL_ROOT", str(tmp_path / "elsewhere"))
    assert get_settings().root == tmp_path, "cached until get_settings.cache_clear()"
    get_settings.cache_clear()
    assert get_settings().root == tmp_path / "elsewhere"


@pytest.mark.parametrize("name", sorted(VARIABLES.values()))
def test_each_variable_reaches_its_field(name):
    settings = Settings.from_environ({name: "/some/value"})
    assert settings != Settings(), f"{name} was not read"
