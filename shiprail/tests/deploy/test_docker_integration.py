"""The proof on a real Docker Engine: blue/green under load behind the real nginx edge.

One environment per test run (unique name, ports and networks), torn down at the end.
Test images are built FROM the workorders image (``shiprail build image``) with a tiny
Dockerfile: a second version, one that crashes at start, one that never becomes ready and
one that answers 500 to every second API request.
"""

from __future__ import annotations

import contextlib
import io
import os
import secrets
import signal
import socket
import ssl
import subprocess
import sys
import tarfile
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from shiprail.config import ServiceConfig, ShiprailConfig
from shiprail.deploy.engine import Engine
from shiprail.deploy.ledger import Ledger
from shiprail.deploy.platform import docker_platform
from shiprail.deploy.settings import EdgeConfig, EnvironmentConfig, HealthCheck, WatchConfig
from shiprail.deploy.trust import NOT_VERIFIED
from shiprail.errors import DeployFailed, LockHeld
from shiprail.image.scan import load_context
from shiprail.image.trust import RegistryTrust
from shiprail.naming import DEFAULT_SERVICE, Scope

from .load import Load
from conftest import wait_until

pytestmark = pytest.mark.docker

#: Time allowed for the edge to switch back (nginx -t and a graceful reload), as documented.
EDGE_SWITCH_SECONDS = 2.0
WATCH = WatchConfig(window_seconds=5, interval_seconds=1, max_error_ratio=0.05, min_requests=20)

WRAPPER = """
import os, sys
args = sys.argv[1:]
mode = os.environ["SHIPRAIL_TEST_MODE"]
if args[:1] != ["serve"]:
    os.execvp("workorders", ["workorders", *args])
if mode == "crash":
    print("configuration broken on purpose", flush=True)
    sys.exit(3)
if mode == "never-ready":
    from http.server import BaseHTTPRequestHandler, HTTPServer
    class H(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(503); self.end_headers()
    HTTPServer(("0.0.0.0", 8000), H).serve_forever()
if mode == "errors":
    import uvicorn
    from workorders.faults import FaultSettings
    from workorders.main import create_app
    def factory():
        app = create_app()
        app.state.faults.set(FaultSettings(error_ratio=0.5))
        return app
    uvicorn.run(factory, factory=True, host="0.0.0.0", port=8000, log_level="warning")
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _workorders_image(client: Any) -> str:
    images = [t for i in client.images.list("workorders") for t in i.tags]
    if not images:
        from shiprail.image.build import build_image

        return str(build_image(client, allow_dirty=True).reference)
    return str(sorted(images, key=lambda t: client.images.get(t).attrs["Created"])[-1])


def build_from_files(client: Any, files: dict[str, bytes], tag: str) -> str:
    """Build ``tag`` from an in-memory context (file name -> content), with no network."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    buffer.seek(0)
    client.images.build(fileobj=buffer, custom_context=True, tag=tag, network_mode="none", rm=True)
    return tag


def _build(client: Any, base: str, tag: str, mode: str | None, version: str) -> str:
    lines = [f"FROM {base}", f"ENV WORKORDERS_VERSION={version}"]
    files = {}
    if mode:
        lines += [
            "COPY wrapper.py /opt/test/wrapper.py",
            f"ENV SHIPRAIL_TEST_MODE={mode}",
            'ENTRYPOINT ["python3", "/opt/test/wrapper.py"]',
            'CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]',
        ]
        files["wrapper.py"] = WRAPPER.encode()
    files["Dockerfile"] = ("\n".join(lines) + "\n").encode()
    return build_from_files(client, files, tag)


def local_trust(state: Path, client: Any) -> RegistryTrust:
    """The production trust over an environment that pulls from no registry (dev, verify off):
    it admits the local image as is and the ledger records it as not verified."""
    return RegistryTrust(
        root=state, state=state, keys=[], client=lambda: client, scan=lambda: load_context(None)
    )


IMAGES = (
    ("v1", None, "1.0.0-it"),
    ("v2", None, "2.0.0-it"),
    ("v3", None, "3.0.0-it"),
    ("crash", "crash", "9.0.0-crash"),
    ("never-ready", "never-ready", "9.0.0-nr"),
    ("errors", "errors", "9.0.0-errors"),
)


class Env:
    """One service's environment on the real engine, behind its own edge port unless
    ``port`` (and ``name``) make it share one with another service."""

    def __init__(
        self,
        tmp: Path,
        client: Any,
        *,
        service: str = DEFAULT_SERVICE,
        name: str | None = None,
        port: int | None = None,
        images: tuple[str, ...] = tuple(key for key, _, _ in IMAGES),
        health_seconds: float = 15,
    ) -> None:
        self.client = client
        self.service = service
        self.name = name or f"dev-it{secrets.token_hex(3)}"
        self.hostname = f"{self.name}.localhost" if name is None else f"{service}.localhost"
        self.port = port or _free_port()
        self.state = tmp
        base = _workorders_image(client)
        self.images = {
            key: _build(client, base, f"shiprail-test/{service}-{self.name}:{key}", mode, ver)
            for key, mode, ver in IMAGES
            if key in images
        }
        env_cfg = EnvironmentConfig(
            replicas=2,
            memory="256m",
            cpus=0.5,
            env={"WORKORDERS_ENV": "dev"},
            edge=EdgeConfig(hostname=self.hostname, port=self.port),
            health=HealthCheck(timeout_seconds=health_seconds),
            watch=WATCH,
            drain_seconds=2,
            keep_releases=2,
            # These tests are about rollouts of locally built images: a dev environment that
            # says it does not verify (the supply-chain tests verify, with a real registry).
            verify=False,
            registry=None,
        )
        self.config = ShiprailConfig(
            service=ServiceConfig(name=service), environments={self.name: env_cfg}
        )
        self.ledger = Ledger(f"sqlite:///{tmp / 'state.db'}")
        self.ledger.migrate()
        self.log: list[str] = []

    def engine(self) -> Engine:
        return Engine(
            self.config,
            self.ledger,
            docker_platform(
                self.state,
                self.state,
                trust=local_trust(self.state, self.client),
                service=self.service,
            ),
            file_sd_dir=self.state / "targets",
            root=self.state,
            actor="integration",
            say=self.log.append,
        )

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def ca(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.state / "edge" / "ca" / "ca.pem"))

    def load(self, path: str = "/api/v1/workorders") -> Load:
        return Load(self.url + path, workers=4, verify=self.ca, host=self.hostname)

    def served_version(self) -> str:
        """The version the edge serves for this environment's hostname (named in TLS too, so
        an edge shared by several services answers with this one's certificate)."""
        with httpx.Client(verify=self.ca, headers={"host": self.hostname}) as http:
            response = http.get(self.url + "/version", extensions={"sni_hostname": self.hostname})
        response.raise_for_status()
        return str(response.json()["version"])

    @property
    def scope(self) -> Scope:
        return Scope(self.service, self.name)

    @property
    def edge(self) -> Any:
        """The edge proxy's container (one per edge port, shared by the sites on it)."""
        return self.client.containers.get(f"shiprail-edge-{self.port}")

    def cleanup(self, *, edge: bool = True) -> None:
        """Remove what the engine made for this service (and the edge, unless shared)."""
        label = [f"io.shiprail.environment={self.name}", f"io.shiprail.service={self.service}"]
        with contextlib.suppress(Exception):
            if edge:
                self.edge.remove(force=True)
        for container in self.client.containers.list(all=True, filters={"label": label}):
            container.remove(force=True)
        for volume in self.client.volumes.list(filters={"label": label}):
            volume.remove(force=True)
        for name in (self.scope.data_volume, f"shiprail-edge-{self.port}-conf"):
            with contextlib.suppress(Exception):
                self.client.volumes.get(name).remove(force=True)
        for network in self.client.networks.list(names=[self.scope.network]):
            network.remove()
        for tag in self.images.values():
            with contextlib.suppress(Exception):
                self.client.images.remove(tag, force=True)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, docker_client: Any) -> Iterator[Env]:
    environment = Env(tmp_path_factory.mktemp("deploy-it"), docker_client)
    try:
        yield environment
    finally:
        environment.cleanup()


def test_v1_then_v2_under_load_has_zero_failed_requests(env: Env) -> None:
    engine = env.engine()
    v1 = engine.deploy(env.name, env.images["v1"])
    assert env.served_version() == "1.0.0-it"
    with env.load() as load:
        # Traffic flows before the switch and keeps flowing after it.
        wait_until(lambda: load.snapshot()[0] >= 20, 30, what="requests served by v1")
        v2 = engine.deploy(env.name, env.images["v2"])
        switched = load.snapshot()[0]
        wait_until(lambda: load.snapshot()[0] >= switched + 20, 30, what="requests after v2")
    assert env.served_version() == "2.0.0-it"
    assert load.result.requests > 50, load.result
    assert load.result.failures == 0, (load.result.statuses, load.result.errors)
    assert v2.colour != v1.colour
    # verification is off for this dev environment, and the ledger says so for each release
    assert v1.verification == v2.verification == NOT_VERIFIED
    assert v2.image == env.images["v2"] and v2.image_digest.startswith("sha256:")
    # hardened replicas: non-root, read-only, no capabilities, limits, loopback-only ports
    for instance in engine.platform.target(env.name, env.config.environments[env.name]).instances(
        env.name, v2.id
    ):
        attrs = env.client.containers.get(instance.name).attrs
        host = attrs["HostConfig"]
        assert attrs["Config"]["User"] not in ("", "root", "0")
        assert host["ReadonlyRootfs"] is True and host["CapDrop"] == ["ALL"]
        assert "no-new-privileges:true" in host["SecurityOpt"]
        assert host["Memory"] == 256 * 1024 * 1024 and host["NanoCpus"] == 500_000_000
        assert "/tmp" in host["Tmpfs"]
        assert all(b["HostIp"] == "127.0.0.1" for b in host["PortBindings"]["8000/tcp"])
        assert env.scope.network in attrs["NetworkSettings"]["Networks"]
        assert attrs["Config"]["Labels"]["io.shiprail.service"] == DEFAULT_SERVICE
    old = env.client.containers.get(env.scope.container(v1.id, 1))
    assert old.status == "exited", "previous release kept, stopped, for instant rollback"


def test_edge_serves_tls_only_with_security_headers(env: Env) -> None:
    response = httpx.get(
        env.url + "/health", verify=env.ca, headers={"host": f"{env.name}.localhost"}
    )
    assert response.status_code == 200
    for header in ("strict-transport-security", "content-security-policy", "x-frame-options"):
        assert len(response.headers.get_list(header)) == 1, header
    assert response.headers["x-content-type-options"] == "nosniff"
    plain = httpx.get(f"http://127.0.0.1:{env.port}/health", timeout=3)
    assert plain.status_code == 400, "clear-text HTTP is refused on the TLS port"
    assert httpx.get(env.url + "/metrics", verify=env.ca).status_code == 404
    logs = env.edge.logs(tail=5).decode()
    assert '"request_id":"' in logs


@pytest.mark.parametrize(
    ("image", "reason", "max_failed"),
    [("crash", "crashed at start", 0), ("never-ready", "not healthy", 0)],
)
def test_release_that_never_serves_keeps_previous(
    env: Env, image: str, reason: str, max_failed: int
) -> None:
    engine = env.engine()
    live = env.ledger.live_release(env.name)
    assert live is not None
    with env.load() as load, pytest.raises(DeployFailed) as info:
        engine.deploy(env.name, env.images[image])
    assert reason in str(info.value)
    if image == "crash":
        assert "configuration broken on purpose" in str(info.value), "logs tail in the reason"
    assert load.result.failures <= max_failed, (load.result.statuses, load.result.errors)
    assert env.ledger.live_release(env.name) == live
    failed = env.ledger.releases(env.name)[0]
    assert failed.status == "failed" and failed.image == env.images[image]
    assert env.served_version() == "2.0.0-it"


def test_release_answering_500_is_rolled_back_automatically(env: Env) -> None:
    engine = env.engine()
    live = env.ledger.live_release(env.name)
    assert live is not None
    with env.load() as load, pytest.raises(DeployFailed, match="error ratio") as info:
        engine.deploy(env.name, env.images["errors"])
    assert live.id in str(info.value)
    assert env.served_version() == "2.0.0-it"
    live_now = env.ledger.live_release(env.name)
    assert live_now is not None and live_now.id == live.id
    # Documented bound (docs/releases.md): half the requests of at most two watch intervals
    # after the switch, plus the edge's switch back.
    exposure = 2 * WATCH.interval_seconds + EDGE_SWITCH_SECONDS
    bound = 0.5 * load.result.rate * exposure + WATCH.min_requests
    assert load.result.failures <= bound, (load.result.failures, bound, load.result.rate)
    assert env.ledger.attempts(env.name)[0].action == "rollback"


def test_rollback_uses_retained_containers(env: Env) -> None:
    engine = env.engine()
    current = env.ledger.live_release(env.name)
    assert current is not None
    with env.load() as load:
        back = engine.rollback(env.name)
    assert env.served_version() == "1.0.0-it"
    assert load.result.failures == 0, (load.result.statuses, load.result.errors)
    names = {
        c.name
        for c in env.client.containers.list(filters={"label": f"io.shiprail.release={back.id}"})
    }
    assert env.scope.container(back.id, 1) in names
    assert engine.rollback(env.name, to=current.id).id == current.id
    assert env.served_version() == "2.0.0-it"


def test_concurrent_deploy_is_refused(env: Env) -> None:
    first = env.engine()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            first.deploy(env.name, env.images["v3"])
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    wait_until(
        lambda: env.ledger.lock_info(env.name) is not None, 30, what="the first deploy's lock"
    )
    with pytest.raises(LockHeld, match="locked by another deploy"):
        env.engine().deploy(env.name, env.images["v1"])
    thread.join(timeout=180)
    assert not errors, errors
    assert env.served_version() == "3.0.0-it"


def _cli_deploy(env: Env, image: str) -> subprocess.Popen[str]:
    """``shiprail deploy`` as a separate process, configured for the test environment."""
    root = env.state / "cli-root"
    root.mkdir(exist_ok=True)
    cfg = env.config.environments[env.name].model_dump(mode="json", exclude_defaults=True)
    (root / "shiprail.yaml").write_text(yaml.safe_dump({"environments": {env.name: cfg}}))
    variables = {
        **os.environ,
        "SHIPRAIL_ROOT": str(root),
        "SHIPRAIL_STATE_DIR": str(env.state),
        "SHIPRAIL_DATABASE_URL": env.ledger.url,
        "SHIPRAIL_ACTOR": "killed-run",
    }
    shiprail = str(Path(sys.executable).with_name("shiprail"))
    return subprocess.Popen(
        [shiprail, "deploy", env.name, "--image", env.images[image]],
        env=variables, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
    )  # fmt: skip


def _wait_for_line(process: subprocess.Popen[str], text: str) -> list[str]:
    assert process.stderr is not None
    lines = []
    for line in process.stderr:
        lines.append(line)
        if text in line:
            return lines
    pytest.fail(f"'{text}' never printed: {''.join(lines)}")


def test_sigterm_during_deploy_keeps_previous_and_exits_1(env: Env) -> None:
    live = env.ledger.live_release(env.name)
    assert live is not None
    before = env.served_version()
    process = _cli_deploy(env, "never-ready")
    _wait_for_line(process, "waiting for health")
    process.send_signal(signal.SIGTERM)
    _out, err = process.communicate(timeout=120)
    assert process.returncode == 1, err
    assert "interrupted" in err and live.id in err
    assert env.served_version() == before
    failed = env.ledger.releases(env.name)[0]
    assert failed.status == "failed" and failed.created_by == "killed-run"
    assert not env.client.containers.list(
        all=True, filters={"label": f"io.shiprail.release={failed.id}"}
    )
    assert env.ledger.lock_info(env.name) is None


def test_lock_of_killed_deploy_is_recovered_by_the_next_run(env: Env) -> None:
    before = env.served_version()
    process = _cli_deploy(env, "never-ready")
    _wait_for_line(process, "waiting for health")
    process.kill()
    process.wait(timeout=30)
    lock = env.ledger.lock_info(env.name)
    assert lock is not None and lock.pid == process.pid, "the killed run left its lock"
    assert env.served_version() == before, "the previous release kept serving"
    orphan = env.ledger.releases(env.name)[0]
    assert orphan.status == "pending"
    release = env.engine().deploy(env.name, env.images["v2"])
    assert release.status == "live" and env.served_version() == "2.0.0-it"
    statuses = {a.release_id: a.status for a in env.ledger.attempts(env.name)}
    assert statuses[orphan.id] == "interrupted"
    orphan_now = env.ledger.release(orphan.id)
    assert orphan_now is not None and orphan_now.status == "failed"
    assert not env.client.containers.list(
        all=True, filters={"label": f"io.shiprail.release={orphan.id}"}
    )


def test_prune_keeps_what_the_last_releases_need(env: Env) -> None:
    engine = env.engine()
    engine.deploy(env.name, env.images["v1"])
    removed = engine.prune(timedelta(seconds=0))
    cfg = env.config.environments[env.name]
    kept = engine._kept_releases(env.name, cfg)
    present = {
        c.labels["io.shiprail.release"]
        for c in env.client.containers.list(
            all=True,
            filters={"label": [f"io.shiprail.environment={env.name}", "io.shiprail.role=replica"]},
        )
    }
    assert present <= kept
    assert len(kept) == cfg.keep_releases + 1
    for image in removed.images:
        assert image not in {r.image for r in env.ledger.releases(env.name) if r.id in kept}
    assert env.images["crash"] in removed.images
    assert env.served_version() == "1.0.0-it"
