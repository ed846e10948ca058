"""The local registry process: TLS from the local CA, htpasswd auth, idempotent up, clean down."""

from __future__ import annotations

import json
import os
import ssl

import httpx
import pytest
from typer.testing import CliRunner

from shiprail.cli import app
from shiprail.errors import UsageError
from shiprail.image.registry import LocalRegistry, trust_docker_engine, untrust_docker_engine

from conftest import require_tools


def trust(ca) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(ca))


@pytest.fixture
def registry(tmp_path):
    require_tools("docker-registry", "htpasswd", "openssl")
    local = LocalRegistry(tmp_path / "state")
    yield local
    local.down(purge=True)


def test_up_serves_tls_with_auth_and_is_idempotent(registry):
    first = registry.up()
    assert first.running and first.host and first.host.startswith("127.0.0.1:")
    assert registry.up().pid == first.pid, "a second up reuses the running registry"
    access = registry.access()
    url = f"https://{access.host}/v2/"
    assert httpx.get(url, verify=trust(first.ca_file)).status_code == 401
    ok = httpx.get(url, auth=(access.username, access.password), verify=trust(first.ca_file))
    assert ok.status_code == 200
    assert "password" not in repr(access) and access.password not in repr(access)
    assert oct(os.stat(registry.dir / "password").st_mode & 0o777) == "0o600"
    assert registry.dir.joinpath("htpasswd").read_text().split(":", 1)[1].startswith("$2y$")
    config = json.loads((registry.dir / "config.yml").read_text())
    assert config["http"]["addr"] == first.host


def test_down_stops_keeps_storage_and_up_returns_on_the_same_port(registry):
    first = registry.up()
    (registry.storage / "kept").write_text("x")
    assert registry.down() is True
    assert not registry.status().running and registry.down() is False
    with pytest.raises(UsageError, match="not running"):
        registry.access()
    again = registry.up()
    assert again.host == first.host and (registry.storage / "kept").exists()
    with pytest.raises(UsageError, match="already runs"):
        registry.up(port=1)


def test_a_stale_pid_file_is_not_a_running_registry(registry):
    registry.dir.mkdir(parents=True)
    (registry.dir / "registry.json").write_text(json.dumps({"port": 5999, "pid": os.getpid()}))
    assert not registry.status().running, "our own pid is not the registry's"


def test_trusting_the_engine_writes_and_removes_only_our_ca(tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("CA")
    certs = tmp_path / "certs.d"
    assert "trusts the local CA" in trust_docker_engine("127.0.0.1:5000", ca, certs)
    assert (certs / "127.0.0.1:5000" / "ca.crt").read_text() == "CA"
    other = tmp_path / "other.pem"
    other.write_text("OTHER")
    untrust_docker_engine("127.0.0.1:5000", other, certs)
    assert (certs / "127.0.0.1:5000" / "ca.crt").exists(), "another CA's file is left alone"
    untrust_docker_engine("127.0.0.1:5000", ca, certs)
    assert not (certs / "127.0.0.1:5000").exists()
    readonly = tmp_path / "ro"
    readonly.write_text("a file, not a directory")
    assert "as root run: mkdir -p" in trust_docker_engine("h:1", ca, readonly)


def test_cli_registry_up_status_down(tmp_path, monkeypatch):
    monkeypatch.setenv("SHIPRAIL_STATE_DIR", str(tmp_path))  # before anything reads settings
    require_tools("docker-registry", "htpasswd", "openssl")
    runner = CliRunner()
    try:
        up = runner.invoke(app, ["registry", "up"])
        assert up.exit_code == 0, up.output
        host = up.stdout.strip()
        status = runner.invoke(app, ["registry", "status", "--json"])
        assert json.loads(status.stdout)["host"] == host
    finally:
        down = runner.invoke(app, ["registry", "down", "--purge"])
    assert down.exit_code == 0 and "registry stopped" in down.output
    status = runner.invoke(app, ["registry", "status", "--json"])
    assert json.loads(status.stdout)["running"] is False
