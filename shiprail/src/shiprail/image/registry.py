"""A local OCI registry on 127.0.0.1: TLS from the local CA, htpasswd auth, storage on disk.

``shiprail registry up`` runs Debian's ``docker-registry`` (distribution 2.8) so an image can
leave the build host the way it will in production (pushed by digest, signed, attested, pulled
by digest) with no registry on the internet. Everything lives under ``<state>/registry/``:

    config.yml     the registry's configuration (written on every ``up``)
    htpasswd       bcrypt entries (the registry accepts no other hash), made by ``htpasswd -B``
    password       the generated password of user ``shiprail`` (mode 0600; never printed)
    tls/           a leaf certificate for 127.0.0.1 signed by the local CA of ``deploy.tls``
    storage/       the blobs and manifests (kept by ``down``; ``down --purge`` removes them
                   and the CA installed for the Docker Engine)
    registry.json  the port and pid of the running process; registry.log its output

The Docker Engine treats 127.0.0.0/8 as an insecure registry by default (it still speaks TLS,
without verifying the certificate); to make it verify, ``up`` installs the CA as
``/etc/docker/certs.d/127.0.0.1:PORT/ca.crt`` when it may write there (root), and otherwise
says which command would. cosign always verifies against the CA (``--registry-cacert``).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path

from shiprail import _subprocess
from shiprail._subprocess import pid_alive
from shiprail.deploy.settings import LOCAL_REGISTRY
from shiprail.deploy.tls import ensure_ca, issue_leaf
from shiprail.errors import ToolCrashed, UsageError
from shiprail.settings import get_settings

REGISTRY_BINARY = "docker-registry"
REGISTRY_HINT = "apt-get install -y docker-registry"
HTPASSWD_HINT = "apt-get install -y apache2-utils"
USERNAME = "shiprail"
LOOPBACK = "127.0.0.1"
#: Seconds the registry may take to answer after start, and to exit after SIGTERM.
START_TIMEOUT_SECONDS = 20.0
STOP_TIMEOUT_SECONDS = 10.0
DOCKER_CERTS_DIR = Path("/etc/docker/certs.d")


@dataclass(frozen=True)
class RegistryAccess:
    """How to reach a registry: its host, credentials and the CA its certificate chains to."""

    host: str
    username: str
    password: str = field(repr=False)
    ca_file: Path | None = None

    def reference(self, repository: str) -> str:
        """``host/repository``, the name images are pushed under."""
        return f"{self.host}/{repository}"

    def auth_config(self) -> dict[str, str]:
        """The credentials in the form the Docker SDK's push and pull take."""
        return {"username": self.username, "password": self.password}


def registry_access(registry: str, state: Path) -> RegistryAccess:
    """How to reach ``registry``, the same for publishing and for deploying from it.

    ``local`` is the registry ``shiprail registry up`` runs for ``state``. Any other host (ECR,
    ACR) is reached with SHIPRAIL_REGISTRY_USERNAME / SHIPRAIL_REGISTRY_PASSWORD, a
    short-lived token the caller obtains, and trusted through the system CAs. Missing
    credentials are refused here, before anything is pushed or pulled, rather than surfacing
    as an anonymous 401 from the registry half-way through.
    """
    if registry == LOCAL_REGISTRY:
        return LocalRegistry(state).access()
    if not registry or "/" in registry:
        raise UsageError(
            f"{registry!r} is not a registry host",
            hint="give 'local' or a host[:port] without scheme or path, "
            "e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com",
        )
    settings = get_settings()
    if not settings.registry_username or not settings.registry_password:
        raise UsageError(
            f"no credentials for the registry {registry}",
            hint="set SHIPRAIL_REGISTRY_USERNAME and SHIPRAIL_REGISTRY_PASSWORD (ECR: AWS and "
            "the output of aws ecr get-login-password; ACR: "
            "00000000-0000-0000-0000-000000000000 and az acr login --expose-token's token)",
        )
    return RegistryAccess(registry, settings.registry_username, settings.registry_password)


@dataclass(frozen=True)
class RegistryStatus:
    running: bool
    host: str | None
    pid: int | None
    storage: Path
    ca_file: Path
    log: Path
    docker_trust: str = ""


class LocalRegistry:
    """The registry process of one state directory (``<state>/registry``)."""

    def __init__(self, state: Path) -> None:
        self.dir = state / "registry"
        self.ca_dir = state / "edge" / "ca"
        self.storage = self.dir / "storage"
        self.log = self.dir / "registry.log"
        self._meta = self.dir / "registry.json"

    # -- lifecycle -------------------------------------------------------------------------

    def up(self, port: int | None = None) -> RegistryStatus:
        """Start the registry, or return the running one (idempotent).

        A running registry on another port than ``port`` is a usage error: stop it first.
        """
        current = self.status()
        if current.running:
            if port and current.host != f"{LOOPBACK}:{port}":
                raise UsageError(
                    f"the local registry already runs on {current.host}",
                    hint="shiprail registry down, then up with the new port",
                )
            return current
        port = port or self._recorded_port() or _free_port()
        self._prepare(port)
        process = _subprocess.start(
            [REGISTRY_BINARY, "serve", str(self.dir / "config.yml")],
            log_path=self.log,
            cwd=self.dir,
            install_hint=REGISTRY_HINT,
            detach=True,
        )
        self._meta.write_text(json.dumps({"port": port, "pid": process.pid}))
        self._wait_ready(process.pid, port)
        trust = trust_docker_engine(f"{LOOPBACK}:{port}", self.ca_file)
        return RegistryStatus(
            True, f"{LOOPBACK}:{port}", process.pid, self.storage, self.ca_file, self.log, trust
        )

    def down(self, *, purge: bool = False) -> bool:
        """Stop the registry; True when one was running. ``purge`` also deletes its storage."""
        pid = self._running_pid()
        host = self.status().host
        if pid is not None:
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
            while pid_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            if pid_alive(pid):
                os.kill(pid, signal.SIGKILL)
        if self._meta.is_file():
            meta = json.loads(self._meta.read_text())
            self._meta.write_text(json.dumps({"port": meta.get("port")}))
        if purge and self.storage.exists():
            shutil.rmtree(self.storage)
        if purge and host:
            untrust_docker_engine(host, self.ca_file)
        return pid is not None

    def status(self) -> RegistryStatus:
        pid = self._running_pid()
        port = self._recorded_port()
        host = f"{LOOPBACK}:{port}" if pid is not None and port else None
        return RegistryStatus(pid is not None, host, pid, self.storage, self.ca_file, self.log)

    def access(self) -> RegistryAccess:
        """Credentials and CA for the running registry; a usage error when it is not up."""
        current = self.status()
        if not current.running or current.host is None:
            raise UsageError("the local registry is not running", hint="shiprail registry up")
        password = (self.dir / "password").read_text().strip()
        return RegistryAccess(current.host, USERNAME, password, self.ca_file)

    @property
    def ca_file(self) -> Path:
        return self.ca_dir / "ca.pem"

    # -- details ---------------------------------------------------------------------------

    def _prepare(self, port: int) -> None:
        """Certificates, credentials, storage and the configuration file (kept when present)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.dir, 0o700)
        self.storage.mkdir(exist_ok=True)
        ensure_ca(self.ca_dir)
        issue_leaf(self.ca_dir, self.dir / "tls", "localhost")
        password_file, htpasswd = self.dir / "password", self.dir / "htpasswd"
        if not password_file.is_file() or not htpasswd.is_file():
            password = secrets.token_urlsafe(24)
            _subprocess.run(
                ["htpasswd", "-B", "-i", "-c", str(htpasswd), USERNAME],
                input_text=password + "\n",
                timeout=30,
                install_hint=HTPASSWD_HINT,
            )
            password_file.touch(mode=0o600)
            password_file.write_text(password + "\n")
            os.chmod(htpasswd, 0o600)
        (self.dir / "config.yml").write_text(_config(self.dir, port))

    def _wait_ready(self, pid: int, port: int) -> None:
        """Return when ``/v2/`` answers over TLS (401: auth is on); else stop and raise."""
        import ssl

        import httpx

        context = ssl.create_default_context(cafile=str(self.ca_file))
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        url = f"https://{LOOPBACK}:{port}/v2/"
        while time.monotonic() < deadline:
            if not pid_alive(pid):
                break
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url, verify=context, timeout=2.0).status_code == 401:
                    return
            time.sleep(0.2)
        self.down()
        tail = self.log.read_text(errors="replace").strip().splitlines()[-5:]
        raise ToolCrashed(f"the registry did not start on {LOOPBACK}:{port}: " + " / ".join(tail))

    def _recorded_port(self) -> int | None:
        if not self._meta.is_file():
            return None
        port = json.loads(self._meta.read_text()).get("port")
        return int(port) if port else None

    def _running_pid(self) -> int | None:
        """The recorded pid when that process is still this directory's registry."""
        if not self._meta.is_file():
            return None
        pid = json.loads(self._meta.read_text()).get("pid")
        if not pid or not pid_alive(pid):
            return None
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return None
        config = str(self.dir / "config.yml").encode()
        return int(pid) if config in cmdline else None


def _config(directory: Path, port: int) -> str:
    """The registry's configuration: loopback only, TLS, htpasswd, deletes allowed."""
    config = {
        "version": 0.1,
        "log": {"level": "info", "formatter": "text", "fields": {"service": "registry"}},
        "storage": {
            "filesystem": {"rootdirectory": str(directory / "storage")},
            "delete": {"enabled": True},
        },
        "http": {
            "addr": f"{LOOPBACK}:{port}",
            "secret": secrets.token_hex(16),
            "tls": {
                "certificate": str(directory / "tls" / "cert.pem"),
                "key": str(directory / "tls" / "key.pem"),
            },
            "headers": {"X-Content-Type-Options": ["nosniff"]},
        },
        "auth": {"htpasswd": {"realm": "shiprail", "path": str(directory / "htpasswd")}},
    }
    return json.dumps(config, indent=2) + "\n"  # JSON is YAML; no quoting surprises


def trust_docker_engine(host: str, ca_file: Path, certs_dir: Path = DOCKER_CERTS_DIR) -> str:
    """Install the CA for ``host`` where the local Docker Engine looks for it; says what it did.

    Writing there needs root; without it the message names the command to run.
    """
    target = certs_dir / host / "ca.crt"
    try:
        if target.is_file() and target.read_bytes() == ca_file.read_bytes():
            return f"Docker Engine trusts the local CA ({target})"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ca_file, target)
    except OSError:
        return (
            f"Docker Engine does not verify {host} against the local CA; as root run: "
            f"mkdir -p {target.parent} && cp {ca_file} {target}"
        )
    return f"Docker Engine trusts the local CA ({target})"


def untrust_docker_engine(host: str, ca_file: Path, certs_dir: Path = DOCKER_CERTS_DIR) -> None:
    """Remove what :func:`trust_docker_engine` installed for ``host`` (only if it is ours)."""
    target = certs_dir / host / "ca.crt"
    with contextlib.suppress(OSError):
        if target.read_bytes() == ca_file.read_bytes():
            target.unlink()
            target.parent.rmdir()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])
