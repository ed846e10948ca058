"""Prometheus and Alertmanager images made from Debian packages, and their Compose services.

The docker test builds both images with the real engine (no network inside the build), runs
them read-only on a private network the way compose.monitoring.yaml does, and asks the
running servers what they loaded: every committed alert rule, the committed routes, and the
Alertmanager that Prometheus found by its Compose service name.
"""

from __future__ import annotations

import contextlib
import secrets
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from observe_support import MONITORING, ROOT

from shiprail.errors import UsageError
from shiprail.observe.images import SPECS, assemble_context, spec_named, tag_safe

from conftest import require_tools, unavailable

COMPOSE = ROOT / "compose"
READY_TIMEOUT_SECONDS = 90.0


def _alert_names() -> set[str]:
    names = set()
    for name in ("alerts.yaml", "slo-rules.yaml"):
        for group in yaml.safe_load((MONITORING / "prometheus" / name).read_text())["groups"]:
            names |= {rule["alert"] for rule in group["rules"] if "alert" in rule}
    return names


def test_build_context_holds_only_the_committed_files_and_its_hash_follows_them(
    tmp_path: Path,
) -> None:
    spec = spec_named("alertmanager")
    first = assemble_context(spec, ROOT, tmp_path / "a")
    files = sorted(
        str(p.relative_to(tmp_path / "a")) for p in (tmp_path / "a").rglob("*") if p.is_file()
    )
    assert files == ["Dockerfile", "config/alertmanager.yml", "config/templates/shiprail.tmpl"]
    assert not (tmp_path / "a" / "config" / "routes.test.yaml").exists()
    # the same files give the same hash; one changed template line gives another
    copy = tmp_path / "repo"
    for source, _ in (*spec.files, (spec.dockerfile, "")):
        target = copy / source
        target.parent.mkdir(parents=True, exist_ok=True)
        if (ROOT / source).is_dir():
            shutil.copytree(ROOT / source, target)
        else:
            shutil.copyfile(ROOT / source, target)
    assert assemble_context(spec, copy, tmp_path / "b") == first
    template = copy / "monitoring/alertmanager/templates/shiprail.tmpl"
    template.write_text(template.read_text() + "\n")
    assert assemble_context(spec, copy, tmp_path / "c") != first


def test_unknown_image_and_missing_file_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no monitoring image named 'grafana'"):
        spec_named("grafana")
    with pytest.raises(UsageError, match="Dockerfile is missing"):
        assemble_context(spec_named("prometheus"), tmp_path, tmp_path / "ctx")
    assert tag_safe("2.42.0+ds-5+deb12u1") == "2.42.0_ds-5_deb12u1"


def test_dockerfiles_are_non_root_with_healthcheck_and_labels() -> None:
    for spec in SPECS:
        text = (ROOT / spec.dockerfile).read_text()
        assert "\nUSER prometheus\n" in text, spec.name
        assert "\nHEALTHCHECK " in text and "/-/ready" in text
        assert "\nEXPOSE 909" in text
        for label in ("title", "version", "revision", "created", "base.name", "licenses"):
            assert f"org.opencontainers.image.{label}=" in text, (spec.name, label)


def _compose_config(tmp_path: Path) -> dict[str, Any]:
    binary = shutil.which("docker-compose")
    if binary is None:
        unavailable("docker-compose not installed (apt-get install -y docker-compose)")
    work = tmp_path / "compose"
    shutil.copytree(COMPOSE, work)
    (work / "secrets").mkdir(exist_ok=True)
    for env in ("dev", "prod"):
        (work / "secrets" / f"{env}-db-password.txt").write_text("not-a-real-secret\n")
    files = ["compose.common.yaml", "compose.dev.yaml", "compose.prod.yaml"]
    args = [binary, "--env-file", ".env.example"]
    for name in [*files, "compose.monitoring.yaml"]:
        args += ["-f", name]
    result = subprocess.run(
        [*args, "config"], cwd=work, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return dict(yaml.safe_load(result.stdout))


def test_compose_monitoring_services_are_hardened_and_loopback_only(tmp_path: Path) -> None:
    config = _compose_config(tmp_path)
    prometheus = config["services"]["prometheus"]
    alertmanager = config["services"]["alertmanager"]
    assert prometheus["image"] == "shiprail/prometheus:local"
    assert alertmanager["image"] == "shiprail/alertmanager:local"
    for service in (prometheus, alertmanager):
        assert service["read_only"] is True and service["cap_drop"] == ["ALL"]
        assert "no-new-privileges:true" in service["security_opt"]
        ports = [
            p.removesuffix("/tcp")
            if isinstance(p, str)
            else f"{p.get('host_ip')}:{p.get('published')}:{p.get('target')}"
            for p in service["ports"]
        ]
        assert ports and all(p.startswith("127.0.0.1:") for p in ports), ports
        assert "/-/ready" in " ".join(service["healthcheck"]["test"])
    # Prometheus scrapes over the private backends; only the monitoring network leaves the host
    assert set(prometheus["networks"]) == {"monitoring", "backend-dev", "backend-prod"}
    assert set(alertmanager["networks"]) == {"monitoring"}
    assert config["networks"]["backend-dev"].get("internal") is True
    (secrets_mount,) = [v for v in alertmanager["volumes"] if "alertmanager-secrets" in str(v)]
    # docker-compose 1.29 prints "src:dst:ro"; v2 prints a mapping with read_only
    if isinstance(secrets_mount, dict):
        assert secrets_mount.get("read_only") is True
    else:
        assert str(secrets_mount).endswith(":ro"), secrets_mount


@pytest.mark.prometheus
def test_compose_prometheus_config_is_valid_with_the_committed_rules(tmp_path: Path) -> None:
    require_tools("promtool")
    shutil.copyfile(COMPOSE / "monitoring" / "prometheus.yml", tmp_path / "prometheus.yml")
    for name in ("alerts.yaml", "slo-rules.yaml"):
        shutil.copyfile(MONITORING / "prometheus" / name, tmp_path / name)
    result = subprocess.run(
        ["promtool", "check", "config", str(tmp_path / "prometheus.yml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 rule files found" in result.stdout


def _wait_ready(url: str, container: Any) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        container.reload()
        if container.status == "exited":
            break
        time.sleep(0.5)
    logs = container.logs(tail=15).decode(errors="replace")
    raise AssertionError(f"{url} not ready: {logs}")


def _host_url(container: Any, port: str) -> str:
    container.reload()
    binding = container.attrs["NetworkSettings"]["Ports"][port][0]
    assert binding["HostIp"] == "127.0.0.1"
    return f"http://127.0.0.1:{binding['HostPort']}"


@pytest.mark.docker
@pytest.mark.prometheus
def test_images_build_from_debian_packages_and_serve_the_committed_config(
    tmp_path: Path, docker_client: Any
) -> None:
    from docker.errors import APIError

    from shiprail.observe.images import build_monitoring_images

    client = docker_client
    if shutil.which("debootstrap") is None:
        unavailable("debootstrap not installed")

    built = {b.name: b for b in build_monitoring_images(client)}
    assert set(built) == {"prometheus", "alertmanager"}
    for image in built.values():
        attrs = client.images.get(image.reference).attrs["Config"]
        assert attrs["User"] == "prometheus"
        assert attrs["Healthcheck"]["Test"][0] == "CMD"
        labels = attrs["Labels"]
        assert labels["org.opencontainers.image.version"] == image.package_version
        assert labels["org.opencontainers.image.base.name"] == image.base
        assert client.images.get(image.local_reference).id == image.image_id
    assert (
        "9090/tcp"
        in client.images.get(built["prometheus"].reference).attrs["Config"]["ExposedPorts"]
    )
    # building again reuses the images: nothing they are made of changed
    again = build_monitoring_images(client)
    assert [b.rebuilt for b in again] == [False, False]
    assert {b.reference for b in again} == {b.reference for b in built.values()}

    # the secrets directory the committed alertmanager.yml reads (dummy site values)
    secrets_dir = tmp_path / "alertmanager-secrets"
    secrets_dir.mkdir()
    for name in ("pagerduty-routing-key", "slack-webhook-url", "smtp-password"):
        value = "http://127.0.0.1:9/slack" if name == "slack-webhook-url" else secrets.token_hex(8)
        (secrets_dir / name).write_text(value)
        (secrets_dir / name).chmod(0o644)
    secrets_dir.chmod(0o755)

    suffix = secrets.token_hex(4)
    network = client.networks.create(f"shiprail-monitoring-test-{suffix}")
    containers: list[Any] = []
    try:
        alertmanager = client.containers.run(
            built["alertmanager"].reference,
            name=f"shiprail-alertmanager-test-{suffix}",
            detach=True,
            read_only=True,
            cap_drop=["ALL"],
            security_opt=["no-new-privileges:true"],
            network=network.name,
            volumes={
                str(secrets_dir): {"bind": "/etc/prometheus/alertmanager-secrets", "mode": "ro"}
            },
            ports={"9093/tcp": ("127.0.0.1", None)},
        )
        containers.append(alertmanager)
        # the Compose service name, so the committed compose config finds it
        network.disconnect(alertmanager)
        network.connect(alertmanager, aliases=["alertmanager"])
        prometheus = client.containers.run(
            built["prometheus"].reference,
            command=[
                "--config.file=/etc/prometheus/compose.yml",
                "--storage.tsdb.path=/prometheus",
                "--web.listen-address=:9090",
            ],
            name=f"shiprail-prometheus-test-{suffix}",
            detach=True,
            read_only=True,
            cap_drop=["ALL"],
            security_opt=["no-new-privileges:true"],
            network=network.name,
            volumes={
                str(COMPOSE / "monitoring" / "prometheus.yml"): {
                    "bind": "/etc/prometheus/compose.yml",
                    "mode": "ro",
                }
            },
            ports={"9090/tcp": ("127.0.0.1", None)},
        )
        containers.append(prometheus)
        am_url = _host_url(alertmanager, "9093/tcp")
        prom_url = _host_url(prometheus, "9090/tcp")
        _wait_ready(f"{am_url}/-/ready", alertmanager)
        _wait_ready(f"{prom_url}/-/ready", prometheus)

        rules = httpx.get(f"{prom_url}/api/v1/rules", timeout=5.0).json()["data"]["groups"]
        loaded = {r["name"] for g in rules for r in g["rules"] if r["type"] == "alerting"}
        assert loaded == _alert_names()
        assert {g["file"] for g in rules} == {
            "/etc/prometheus/alerts.yaml",
            "/etc/prometheus/slo-rules.yaml",
        }

        status = httpx.get(f"{am_url}/api/v2/status", timeout=5.0).json()
        routes = yaml.safe_load(status["config"]["original"])
        committed = yaml.safe_load((MONITORING / "alertmanager" / "alertmanager.yml").read_text())
        assert [r["matchers"] for r in routes["route"]["routes"]] == [
            r["matchers"] for r in committed["route"]["routes"]
        ]
        assert {r["name"] for r in routes["receivers"]} == {"null", "critical", "warning"}

        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        active: list[str] = []
        while time.monotonic() < deadline and not active:
            answer = httpx.get(f"{prom_url}/api/v1/alertmanagers", timeout=5.0).json()
            active = [a["url"] for a in answer["data"]["activeAlertmanagers"]]
            time.sleep(0.5)
        assert active == ["http://alertmanager:9093/api/v2/alerts"]

        for container in containers:
            container.reload()
            assert container.attrs["HostConfig"]["ReadonlyRootfs"] is True
            top = container.top(ps_args="-o pid,user")["Processes"]
            assert all(row[1] != "root" for row in top), top
    finally:
        for container in containers:
            with contextlib.suppress(APIError):
                container.remove(force=True, v=True)
        network.remove()
