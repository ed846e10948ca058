"""The default edge proxy: nginx from Debian packages, in a container beside the releases.

The configuration is generated (:func:`render_nginx_conf`), copied into the edge's config
volume through the Docker archive API (so it works on a remote engine too), checked with
``nginx -t`` inside the running proxy, and only then activated with ``nginx -s reload``:
old workers finish the requests they hold, new workers dial the new release. Nothing is
downloaded: the image is the Debian base made with debootstrap plus the ``nginx`` package.

TLS is served on the configured port only; port 80 is closed (not published), so no
request ever travels in clear text.
"""

from __future__ import annotations

import io
import tarfile
import time
from collections.abc import Callable, Mapping
from contextlib import suppress
from typing import TYPE_CHECKING

from shiprail._docker import RESTART_UNLESS_STOPPED, docker_errors, find_container
from shiprail.deploy.routers.interface import Route, Router, TrafficSplit
from shiprail.deploy.routers.nginx_conf import (
    CONF_DIR,
    CONTAINER_PORT,
    SECURITY_HEADERS,
    render_nginx_conf,
    render_nginx_split_conf,
)
from shiprail.deploy.settings import EdgeConfig
from shiprail.deploy.targets.docker import LABEL_ENV, LABEL_ROLE, TMPFS
from shiprail.deploy.tls import TlsMaterial
from shiprail.errors import DeployFailed, ToolCrashed
from shiprail.image.base import ensure_base_image

if TYPE_CHECKING:
    from shiprail._docker import Container, DockerClient

EDGE_USER = "33:33"
#: Seconds to wait for a freshly started proxy to accept connections.
START_TIMEOUT_SECONDS = 20
#: Rendering lives in ``nginx_conf``; these names are part of this module's interface too.
__all__ = [
    "CONF_DIR",
    "CONTAINER_PORT",
    "SECURITY_HEADERS",
    "NginxRouter",
    "edge_image",
    "render_nginx_conf",
    "render_nginx_split_conf",
]


def _tar(files: Mapping[str, bytes], uid: int = 0, gid: int = 33) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        dirs = sorted({name.rsplit("/", 1)[0] for name in files if "/" in name})
        for directory in dirs:
            info = tarfile.TarInfo(directory)
            info.type = tarfile.DIRTYPE
            info.mode = 0o750
            info.uid, info.gid = uid, gid
            tar.addfile(info)
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            info.mode = 0o640
            info.uid, info.gid = uid, gid
            info.mtime = int(time.time())
            tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def edge_image(client: DockerClient) -> str:
    """The edge proxy image: the Debian base built with the nginx package."""
    return ensure_base_image(client, extra_packages=("nginx",))


class NginxRouter(Router):
    """nginx in a container named ``shiprail-<env>-edge``, published on ``bind:port``."""

    def __init__(
        self,
        client: DockerClient,
        *,
        environment: str,
        edge: EdgeConfig,
        network: str,
        tls: TlsMaterial,
        htpasswd: bytes | None = None,
        image: Callable[[], str] | None = None,
    ) -> None:
        self.client = client
        self.environment = environment
        self.edge = edge
        self.network = network
        self.tls = tls
        self.htpasswd = htpasswd
        self._image = image or (lambda: edge_image(client))
        self.name = f"shiprail-{environment}-edge"
        self.volume = f"shiprail-{environment}-edge-conf"

    def url(self) -> str:
        port = "" if self.edge.port == 443 else f":{self.edge.port}"
        return f"https://{self.edge.hostname}{port}/"

    def _put(self, image: str, files: Mapping[str, bytes]) -> None:
        """Write files into the config volume with a short-lived (never started) helper."""
        helper = self.client.containers.create(
            image,
            command=["true"],
            volumes={self.volume: {"bind": "/conf", "mode": "rw"}},
            network_disabled=True,
            labels={LABEL_ENV: self.environment, LABEL_ROLE: "helper"},
        )
        try:
            helper.put_archive("/conf", _tar(files))
        finally:
            helper.remove(force=True)

    def _container(self) -> Container | None:
        return find_container(self.client, self.name)

    def _exec(self, container: Container, *args: str) -> tuple[int, str]:
        """Run a command in the proxy; (-1, output) if the engine reports no exit code."""
        code, output = container.exec_run(list(args), user=EDGE_USER)
        # Not streamed, so the output is one bytes value (the type also allows a stream).
        text = output if isinstance(output, bytes) else b"".join(output)
        return (-1 if code is None else code), text.decode(errors="replace").strip()

    def switch(self, route: Route) -> None:
        conf = render_nginx_conf(route, basic_auth=self.htpasswd is not None)
        with docker_errors(f"edge proxy {self.name}: Docker Engine error"):
            self._apply(conf.encode())

    def split(self, split: TrafficSplit) -> None:
        """Route by weight (see ``nginx_conf``); a new weight is one more graceful reload."""
        conf = render_nginx_split_conf(split, basic_auth=self.htpasswd is not None)
        with docker_errors(f"edge proxy {self.name}: Docker Engine error"):
            self._apply(conf.encode())

    def _apply(self, conf: bytes) -> None:
        """Start the proxy with ``conf``, or check it with ``nginx -t`` and reload gracefully;
        a rejected configuration leaves the previous one serving."""
        files = {"tls/cert.pem": self.tls.cert_pem, "tls/key.pem": self.tls.key_pem}
        if self.htpasswd is not None:
            files["htpasswd"] = self.htpasswd
        container = self._container()
        if container is not None and container.status != "running":
            container.remove(force=True)
            container = None
        if container is None:
            image = self._image()
            self._put(image, {**files, "nginx.conf": conf})
            self._start(image)
            return
        image = container.attrs["Config"]["Image"]
        self._put(image, {**files, "nginx.next.conf": conf})
        code, output = self._exec(
            container, "nginx", "-t", "-q", "-e", "stderr", "-c", f"{CONF_DIR}/nginx.next.conf"
        )
        if code != 0:
            raise DeployFailed(f"nginx rejected the generated configuration: {output[-400:]}")
        self._put(image, {"nginx.conf": conf})
        code, output = self._exec(
            container, "nginx", "-s", "reload", "-e", "stderr", "-c", f"{CONF_DIR}/nginx.conf"
        )
        if code != 0:
            raise DeployFailed(f"nginx reload failed: {output[-400:]}")

    def _start(self, image: str) -> None:
        container = self.client.containers.run(
            image,
            command=["nginx", "-e", "stderr", "-c", f"{CONF_DIR}/nginx.conf", "-g", "daemon off;"],
            name=self.name,
            detach=True,
            user=EDGE_USER,
            read_only=True,
            tmpfs=TMPFS,
            security_opt=["no-new-privileges:true"],
            cap_drop=["ALL"],
            mem_limit=128 * 1024 * 1024,
            pids_limit=128,
            restart_policy=RESTART_UNLESS_STOPPED,
            network=self.network,
            ports={f"{CONTAINER_PORT}/tcp": (self.edge.bind, self.edge.port)},
            volumes={self.volume: {"bind": CONF_DIR, "mode": "ro"}},
            labels={LABEL_ENV: self.environment, LABEL_ROLE: "edge"},
        )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            container.reload()
            if container.status != "running":
                logs = container.logs(tail=5).decode(errors="replace").strip()
                container.remove(force=True)
                raise DeployFailed(f"edge proxy did not start: {logs[-400:]}")
            code, _ = self._exec(container, "sh", "-c", "test -s /tmp/nginx.pid")
            if code == 0:
                return
            time.sleep(0.2)
        raise DeployFailed(f"edge proxy {self.name} did not start within {START_TIMEOUT_SECONDS}s")

    def remove(self) -> None:
        """Remove the proxy and its configuration volume (``shiprail`` teardown and tests)."""
        with docker_errors(f"could not remove the edge proxy {self.name}"):
            container = self._container()
            if container is not None:
                container.remove(force=True)
        # The volume may not exist (the proxy never started).
        with suppress(ToolCrashed), docker_errors(f"could not remove {self.volume}"):
            self.client.volumes.get(self.volume).remove(force=True)
