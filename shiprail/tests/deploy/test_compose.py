"""The Compose + Traefik single-VM stack in compose/: valid for docker-compose, Traefik files
valid against Traefik's JSON schemas, and safe by default."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml

from shiprail.paths import repo_root

from .data import schema_path
from conftest import unavailable

COMPOSE = repo_root() / "compose"


def _compose_config(tmp_path: Path, env: str) -> dict:
    binary = shutil.which("docker-compose")
    if binary is None:
        unavailable("docker-compose not installed (apt-get install -y docker-compose)")
    work = tmp_path / "compose"
    shutil.copytree(COMPOSE, work)
    (work / "secrets").mkdir(exist_ok=True)
    (work / "secrets" / f"{env}-db-password.txt").write_text("not-a-real-secret\n")
    result = subprocess.run(
        [binary, "--env-file", ".env.example", "-f", "compose.common.yaml", "-f",
         f"compose.{env}.yaml", "config"],
        cwd=work, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_compose_config_is_valid_and_hardened(tmp_path: Path, env: str) -> None:
    config = _compose_config(tmp_path, env)
    assert set(config["networks"]) >= {"traefik-public", "backend-dev", "backend-prod"}
    app = config["services"][f"workorders-{env}"]
    assert app["read_only"] is True and app["cap_drop"] == ["ALL"]
    assert "no-new-privileges:true" in app["security_opt"]
    assert app["user"] == "10001:10001"
    assert "ports" not in app, "only the edge publishes ports"
    assert app["networks"] == {f"backend-{env}": None} or list(app["networks"]) == [
        f"backend-{env}"
    ]
    labels = app["labels"]
    labels = labels if isinstance(labels, dict) else dict(x.split("=", 1) for x in labels)
    middlewares = labels.get(f"traefik.http.routers.workorders-{env}.middlewares", "")
    assert ("basic-auth-dev@file" in middlewares) == (env == "dev")
    traefik = config["services"]["traefik"]
    # docker-compose 1.29 prints "127.0.0.1:443:443"; v2 prints mappings
    ports = [
        p.removesuffix("/tcp")
        if isinstance(p, str)
        else f"{p.get('host_ip')}:{p.get('published')}:{p.get('target')}"
        for p in traefik["ports"]
    ]
    assert sorted(ports) == ["127.0.0.1:443:443", "127.0.0.1:80:80"]
    assert "DB_PASSWORD" not in json.dumps(app.get("environment", {})).upper()


def test_traefik_static_config_matches_schema() -> None:
    schema = json.loads(schema_path("traefik-v3.json").read_text())
    document = yaml.safe_load((COMPOSE / "traefik" / "traefik.yaml").read_text())
    jsonschema.validate(document, schema)
    web = document["entryPoints"]["web"]["http"]["redirections"]["entryPoint"]
    assert web["to"] == "websecure" and web["scheme"] == "https"
    assert document["accessLog"]["format"] == "json"
    assert document["accessLog"]["fields"]["headers"]["names"]["X-Request-Id"] == "keep"


def test_traefik_dynamic_common_matches_schema() -> None:
    schema = json.loads(schema_path("traefik-v3-file-provider.json").read_text())
    document = yaml.safe_load((COMPOSE / "traefik" / "dynamic" / "common.yaml").read_text())
    jsonschema.validate(document, schema)
    headers = document["http"]["middlewares"]["security-headers"]["headers"]
    assert headers["stsSeconds"] >= 31536000 and headers["frameDeny"] is True
    assert headers["contentTypeNosniff"] is True
    assert {"contentSecurityPolicy", "referrerPolicy", "permissionsPolicy"} <= set(headers)
    for name in ("default", "modern"):
        assert document["tls"]["options"][name]["minVersion"] == "VersionTLS12"
        assert not any("CBC" in c for c in document["tls"]["options"][name]["cipherSuites"])
    dashboard = document["http"]["routers"]["dashboard"]
    assert "dashboard-auth" in dashboard["middlewares"] and dashboard["entryPoints"] == [
        "websecure"
    ]
    assert "basicAuth" in document["http"]["middlewares"]["basic-auth-dev"]
