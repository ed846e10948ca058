"""Where ``shiprail publish`` pushes to: the local registry, or a cloud registry host with the
credentials of SHIPRAIL_REGISTRY_USERNAME / SHIPRAIL_REGISTRY_PASSWORD and the system CAs.

A cloud registry cannot be reached here; what is checked is the choice of access (host,
user, token, CA) and that a mistake is refused before the Docker Engine or cosign runs: the
same rule serves the release engine when it pulls from an environment's registry.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from shiprail.cli import app
from shiprail.errors import UsageError
from shiprail.image.registry import RegistryAccess, registry_access
from shiprail.image.trust import RegistryTrust
from shiprail.settings import get_settings

ECR = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
ACR = "myteam.azurecr.io"
TOKEN = "short-lived-registry-token"  # a stand-in, not a credential
GITHUB_OIDC = ("ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN")


@pytest.fixture(autouse=True)
def _no_ambient_credentials(monkeypatch, tmp_path):
    """Each case states its own credentials and state; nothing leaks in from the shell."""
    for name in (
        "SHIPRAIL_REGISTRY_USERNAME",
        "SHIPRAIL_REGISTRY_PASSWORD",
        "SHIPRAIL_PUBLISH_REGISTRY",
        "SHIPRAIL_KEY",
        "SIGSTORE_ID_TOKEN",
        *GITHUB_OIDC,
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SHIPRAIL_STATE_DIR", str(tmp_path / "state"))


def credentials(monkeypatch, username: str | None, password: str | None) -> None:
    """Set the variables; settings are read afresh afterwards (they are cached per process)."""
    for name, value in (
        ("SHIPRAIL_REGISTRY_USERNAME", username),
        ("SHIPRAIL_REGISTRY_PASSWORD", password),
    ):
        if value is not None:
            monkeypatch.setenv(name, value)
    get_settings.cache_clear()


@pytest.mark.parametrize(
    ("host", "username"), [(ECR, "AWS"), (ACR, "00000000-0000-0000-0000-000000000000")]
)
def test_a_cloud_registry_uses_the_variables_and_the_system_cas(
    monkeypatch, tmp_path, host, username
):
    credentials(monkeypatch, username, TOKEN)
    access = registry_access(host, tmp_path)
    assert access == RegistryAccess(host, username, TOKEN, None)
    assert access.reference("workorders") == f"{host}/workorders"
    assert access.auth_config() == {"username": username, "password": TOKEN}
    assert TOKEN not in repr(access)


@pytest.mark.parametrize(("username", "password"), [(None, TOKEN), ("AWS", None), ("AWS", "")])
def test_a_cloud_registry_without_credentials_is_a_usage_error(
    monkeypatch, tmp_path, username, password
):
    credentials(monkeypatch, username, password)
    with pytest.raises(UsageError) as refused:
        registry_access(ECR, tmp_path)
    assert ECR in refused.value.message
    assert "SHIPRAIL_REGISTRY_USERNAME" in str(refused.value)
    assert "SHIPRAIL_REGISTRY_PASSWORD" in str(refused.value)


@pytest.mark.parametrize("wrong", [f"https://{ECR}", f"{ECR}/workorders", ""])
def test_a_registry_must_be_a_host(monkeypatch, tmp_path, wrong):
    credentials(monkeypatch, "AWS", TOKEN)
    with pytest.raises(UsageError, match="not a registry host"):
        registry_access(wrong, tmp_path)


def test_local_is_the_registry_of_the_state_directory(tmp_path):
    """Today's behaviour: the registry `shiprail registry up` runs, and none is running."""
    with pytest.raises(UsageError, match="local registry is not running"):
        registry_access("local", tmp_path)


def test_the_release_engine_pulls_with_the_same_rule(monkeypatch, tmp_path):
    trust = RegistryTrust(
        root=tmp_path, state=tmp_path, keys=[], client=_unused, scan=_unused
    )  # fmt: skip
    with pytest.raises(UsageError, match="SHIPRAIL_REGISTRY_USERNAME"):
        trust.access(ACR)
    credentials(monkeypatch, "00000000-0000-0000-0000-000000000000", TOKEN)
    assert trust.access(ACR) == registry_access(ACR, tmp_path)
    with pytest.raises(UsageError, match="local registry is not running"):
        trust.access("local")


def _unused():
    raise AssertionError("not needed to choose a registry")


def publish(*args: str, **env: str):
    """``shiprail publish`` through the real CLI; ``env`` is set for this invocation only."""
    return CliRunner().invoke(app, ["publish", "workorders:1.0.0-abc", *args], env=env)


def test_cli_publish_to_a_cloud_registry_without_credentials_exits_2(monkeypatch):
    monkeypatch.setenv("SHIPRAIL_COSIGN_PASSWORD", "unused")
    monkeypatch.setenv(GITHUB_OIDC[0], "https://token.example")
    monkeypatch.setenv(GITHUB_OIDC[1], "bearer")
    for result in (
        publish("--registry", ECR, "--keyless"),
        publish("--keyless", SHIPRAIL_PUBLISH_REGISTRY=ACR),
    ):
        assert result.exit_code == 2, result.output
        assert "no credentials for the registry" in result.output
        assert "SHIPRAIL_REGISTRY_USERNAME" in result.output
        assert "SHIPRAIL_REGISTRY_PASSWORD" in result.output


def test_cli_keyless_outside_a_ci_run_with_an_identity_exits_2(monkeypatch):
    credentials(monkeypatch, "AWS", TOKEN)
    result = publish("--registry", ECR, "--keyless")
    assert result.exit_code == 2, result.output
    assert "needs an OIDC identity" in result.output and "id-token: write" in result.output
    assert TOKEN not in result.output


def test_cli_keyless_with_a_key_is_refused(monkeypatch, tmp_path):
    result = publish("--keyless", "--key", str(tmp_path / "cosign.key"))
    assert result.exit_code == 2 and "--keyless signs without a key" in result.output


def test_cli_publish_defaults_to_the_local_registry(monkeypatch, tmp_path):
    """With a key at hand and no --registry, the local registry is asked for (and is down)."""
    key = tmp_path / "cosign.key"
    key.write_text("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n")
    monkeypatch.setenv("SHIPRAIL_COSIGN_PASSWORD", "unused")
    result = publish("--key", str(key))
    assert result.exit_code == 2, result.output
    assert "local registry is not running" in result.output


def test_help_names_the_registry_and_keyless_options():
    result = CliRunner().invoke(app, ["publish", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for word in ("--registry", "SHIPRAIL_PUBLISH_REGISTRY", "--keyless"):
        assert word in result.output


def test_keyless_needs_both_github_variables_or_a_token():
    from shiprail.image.cosign import KEYLESS

    KEYLESS.require_identity({GITHUB_OIDC[0]: "u", GITHUB_OIDC[1]: "t"})
    KEYLESS.require_identity({"SIGSTORE_ID_TOKEN": "jwt"})
    for environ in ({}, {GITHUB_OIDC[0]: "u"}, {GITHUB_OIDC[1]: "t"}):
        with pytest.raises(UsageError, match="OIDC identity"):
            KEYLESS.require_identity(environ)


def test_the_publish_function_refuses_keyless_before_touching_the_engine(tmp_path: Path):
    from shiprail.image.cosign import KEYLESS
    from shiprail.image.publish import publish as publish_image

    access = RegistryAccess(ECR, "AWS", TOKEN)
    with pytest.raises(UsageError, match="OIDC identity"):
        publish_image(
            _Untouchable(), "workorders:1", access, KEYLESS, root=tmp_path, ctx=_Untouchable()
        )


class _Untouchable:
    def __getattr__(self, name: str):
        raise AssertionError(f"{name} was used before the identity was checked")
