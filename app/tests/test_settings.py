"""Settings: placeholders and missing secrets are refused outside dev, with clear messages."""

from __future__ import annotations

import hashlib

import pytest

from workorders.settings import SettingsError, load_settings

GOOD_HASH = hashlib.sha256(b"a-long-random-token-value").hexdigest()


def test_dev_needs_no_secrets():
    settings = load_settings(env="dev", api_token_hashes="")
    assert settings.api_token_hashes == []


def test_hashes_are_parsed_from_a_comma_separated_string():
    other = hashlib.sha256(b"another").hexdigest()
    settings = load_settings(env="prod", api_token_hashes=f" {GOOD_HASH.upper()} ,{other},")
    assert settings.api_token_hashes == [GOOD_HASH, other]


@pytest.mark.parametrize("env", ["stage", "prod"])
def test_missing_token_hashes_refused_outside_dev(env):
    with pytest.raises(SettingsError) as info:
        load_settings(env=env, api_token_hashes="")
    message = str(info.value)
    assert f"refusing to start in {env}" in message
    assert "WORKORDERS_API_TOKEN_HASHES is empty" in message


def test_placeholder_token_refused_outside_dev():
    placeholder = hashlib.sha256(b"changeme").hexdigest()
    with pytest.raises(SettingsError, match="placeholder token"):
        load_settings(env="prod", api_token_hashes=f"{GOOD_HASH},{placeholder}")


def test_placeholder_database_password_refused_outside_dev():
    with pytest.raises(SettingsError, match="WORKORDERS_DATABASE_URL uses a placeholder"):
        load_settings(
            env="stage",
            api_token_hashes=GOOD_HASH,
            database_url="postgresql://app:changeme@db/workorders",
        )


def test_tokens_instead_of_hashes_are_refused_everywhere():
    with pytest.raises(SettingsError) as info:
        load_settings(env="dev", api_token_hashes="my-plain-token")
    assert "WORKORDERS_API_TOKEN_HASHES" in str(info.value)
    assert "not a SHA-256 hex digest" in str(info.value)


def test_unknown_env_is_refused_from_the_environment(monkeypatch):
    monkeypatch.setenv("WORKORDERS_ENV", "production")
    with pytest.raises(SettingsError, match="WORKORDERS_ENV"):
        load_settings()


def test_secrets_mounted_as_files_are_read(tmp_path, monkeypatch):
    (tmp_path / "workorders_api_token_hashes").write_text(GOOD_HASH + "\n")
    monkeypatch.setenv("WORKORDERS_SECRETS_DIR", str(tmp_path))
    monkeypatch.delenv("WORKORDERS_API_TOKEN_HASHES", raising=False)
    settings = load_settings(env="prod")
    assert settings.api_token_hashes == [GOOD_HASH]


def test_environment_wins_over_secret_files(tmp_path, monkeypatch):
    other = hashlib.sha256(b"from-the-environment").hexdigest()
    (tmp_path / "workorders_api_token_hashes").write_text(GOOD_HASH)
    monkeypatch.setenv("WORKORDERS_SECRETS_DIR", str(tmp_path))
    monkeypatch.setenv("WORKORDERS_API_TOKEN_HASHES", other)
    assert load_settings(env="prod").api_token_hashes == [other]
