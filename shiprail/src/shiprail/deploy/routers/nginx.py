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
from shiprail.deploy.routers.edge_bans import Ban, bans
from shiprail.deploy.routers.interface import Route, Router, TrafficSplit
from shiprail.deploy.routers.nginx_conf import (
    CONF_DIR,
    CONTAINER_PORT,
    CSP,
    SECURITY_HEADERS,
    render_main_conf,
    render_nginx_conf,
    render_nginx_split_conf,
    render_site_conf,
    render_site_split_conf,
)
from shiprail.deploy.settings import EdgeConfig
from shiprail.deploy.targets.docker import LABEL, LABEL_ROLE, TMPFS
from shiprail.deploy.tls import TlsMaterial
from shiprail.errors import DeployFailed, ToolCrashed
from shiprail.image.base import ensure_base_image
from shiprail.naming import DEFAULT_SERVICE, Scope

if TYPE_CHECKING:
    from shiprail._docker import Container, DockerClient

EDGE_USER = "33:33"
#: Seconds to wait for a freshly started proxy to accept connections.
START_TIMEOUT_SECONDS = 20
#: Seconds nginx may take to replace its workers after a reload.
RELOAD_TIMEOUT_SECONDS = 10
_MAIN = f"{CONF_DIR}/nginx.conf"
#: Exit codes of ``_RELOAD``: the configuration test failed, the reload signal failed, the
#: old workers were still accepting connections when the time was up.
_REJECTED, _NOT_SIGNALLED, _KEPT_OLD = 10, 11, 12
#: Tests the configuration (when ``$1`` is ``test``), reloads, and returns once only new
#: workers accept connections, in one ``docker exec`` (each exec costs the engine ~0.1 s, and
#: a switch used to make five). ``nginx -s reload`` only signals the master; until the old
#: workers are told to shut down they still accept connections with the old configuration,
#: and may close a connection they accepted but had not read yet, so the switch waits for
#: them. Workers are found by the process title nginx gives them.
_RELOAD = f"""
workers() {{
  for d in /proc/[0-9]*; do
    case "$(tr -d '\\0' 2>/dev/null < "$d/cmdline")" in
      "nginx: worker process") printf ' %s ' "${{d#/proc/}}";;
    esac
  done
}}
if [ "$1" = test ]; then nginx -t -q -e stderr -c {_MAIN} || exit {_REJECTED}; fi
old=$(workers)
nginx -s reload -e stderr -c {_MAIN} || exit {_NOT_SIGNALLED}
end=$(( $(date +%s) + {RELOAD_TIMEOUT_SECONDS} ))
while [ "$(date +%s)" -le "$end" ]; do
  now=$(workers)
  stale=no
  for pid in $now; do case "$old" in *" $pid "*) stale=yes;; esac; done
  if [ -n "$now" ] && [ "$stale" = no ]; then exit 0; fi
  sleep 0.02
done
exit {_KEPT_OLD}
"""
#: How far back ``shiprail status`` looks for refused sign-ins (the ban lasts minutes).
BAN_WINDOW_SECONDS = 3600
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


def edge_name(port: int) -> str:
    """The proxy container serving every site on ``port``."""
    return f"shiprail-edge-{port}"


def read_bans(client: DockerClient, port: int, site: str) -> list[Ban]:
    """Addresses the edge on ``port`` refused for failed sign-ins to ``site`` within the
    last ``BAN_WINDOW_SECONDS`` (none when the proxy does not run)."""
    with docker_errors(f"could not read the logs of {edge_name(port)}"):
        container = find_container(client, edge_name(port))
        if container is None:
            return []
        since = int(time.time()) - BAN_WINDOW_SECONDS
        logs = container.logs(stdout=True, stderr=False, since=since)
    return bans(logs.decode(errors="replace").splitlines(), site)


class NginxRouter(Router):
    """One site (``<service>-<environment>``) on the edge proxy that serves ``bind:port``.

    The proxy is the container ``shiprail-edge-<port>``, shared by every site that uses the
    same port: each service's environments add their own site file (routing by hostname),
    certificate and password file to its configuration volume, and connect it to their
    private network. Two sites may not claim one hostname on one port.
    """

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
        service: str = DEFAULT_SERVICE,
        csp: str = CSP,
    ) -> None:
        """``csp``: the site's Content-Security-Policy (the console's is stricter than the
        service's, whose API docs page needs inline code)."""
        self.client = client
        self.environment = environment
        self.service = service
        self.site = Scope(service, environment).site
        self.edge = edge
        self.network = network
        self.tls = tls
        self.htpasswd = htpasswd
        self.csp = csp
        self._image = image or (lambda: edge_image(client))
        self.name = edge_name(edge.port)
        self.volume = f"{self.name}-conf"

    def url(self) -> str:
        port = "" if self.edge.port == 443 else f":{self.edge.port}"
        return f"https://{self.edge.hostname}{port}/"

    @property
    def site_file(self) -> str:
        return f"sites/{self.site}.conf"

    def _put(self, image: str, files: Mapping[str, bytes]) -> None:
        """Write files into the config volume with a short-lived (never started) helper."""
        helper = self.client.containers.create(
            image,
            command=["true"],
            volumes={self.volume: {"bind": "/conf", "mode": "rw"}},
            network_disabled=True,
            labels={LABEL_ROLE: "helper"},
        )
        try:
            helper.put_archive("/conf", _tar(files))
        finally:
            helper.remove(force=True)

    def _delete(self, image: str, names: tuple[str, ...]) -> None:
        """Remove files of the config volume: the proxy mounts it read-only, so a short-lived
        helper with the volume writable does it (its exit status is checked by the SDK)."""
        self.client.containers.run(
            image,
            command=["rm", "-rf", "--", *(f"/conf/{name}" for name in names)],
            volumes={self.volume: {"bind": "/conf", "mode": "rw"}},
            network_disabled=True,
            labels={LABEL_ROLE: "helper"},
            remove=True,
        )

    def _container(self) -> Container | None:
        return find_container(self.client, self.name)

    def _exec(self, container: Container, *args: str) -> tuple[int, str]:
        """Run a command in the proxy; (-1, output) if the engine reports no exit code."""
        code, output = container.exec_run(list(args), user=EDGE_USER)
        # Not streamed, so the output is one bytes value (the type also allows a stream).
        text = output if isinstance(output, bytes) else b"".join(output)
        return (-1 if code is None else code), text.decode(errors="replace").strip()

    def switch(self, route: Route) -> None:
        conf = render_site_conf(
            route, site=self.site, basic_auth=self.htpasswd is not None, csp=self.csp
        )
        with docker_errors(f"edge proxy {self.name}: Docker Engine error"):
            self._apply(conf.encode())

    def split(self, split: TrafficSplit) -> None:
        """Route by weight (see ``nginx_conf``); a new weight is one more graceful reload."""
        conf = render_site_split_conf(split, site=self.site, basic_auth=self.htpasswd is not None)
        with docker_errors(f"edge proxy {self.name}: Docker Engine error"):
            self._apply(conf.encode())

    def _site_files(self, conf: bytes) -> dict[str, bytes]:
        files = {
            f"networks/{self.site}": self.network.encode(),
            f"tls/{self.site}/cert.pem": self.tls.cert_pem,
            f"tls/{self.site}/key.pem": self.tls.key_pem,
            self.site_file: conf,
        }
        if self.htpasswd is not None:
            files[f"htpasswd/{self.site}"] = self.htpasswd
        return files

    def _apply(self, conf: bytes) -> None:
        """Start the proxy with this site, or add or replace the site, check the whole
        configuration with ``nginx -t`` and reload gracefully; a rejected configuration puts
        the site's previous file back, so the running one keeps serving."""
        main = render_main_conf().encode()
        container = self._container()
        if container is not None and container.status != "running":
            container.remove(force=True)
            container = None
        if container is None:
            self._remove_legacy()
            image = self._image()
            self._put(image, {"nginx.conf": main, **self._site_files(conf)})
            self._start(image)
            return
        current = self._configuration(container)
        self._check_shared(container, current)
        image = container.attrs["Config"]["Image"]
        previous = current.get(self.site_file)
        files = {"nginx.conf": main, **self._site_files(conf)}
        if all(current.get(name) == content for name, content in files.items()):
            return  # already routed this way (a repair, or a re-run): no reload needed
        self._put(image, files)
        self._reload(container, on_rejected=lambda: self._restore(container, image, previous))

    def _reload(self, container: Container, on_rejected: Callable[[], None] | None = None) -> None:
        """Reload gracefully; with ``on_rejected``, test the configuration first and call it
        when nginx rejects it. Returns once new requests meet the new configuration."""
        mode = "test" if on_rejected else "reload"
        code, output = self._exec(container, "sh", "-c", _RELOAD, "reload", mode)
        if code == _REJECTED and on_rejected is not None:
            on_rejected()
            raise DeployFailed(f"nginx rejected the generated configuration: {output[-400:]}")
        if code == _KEPT_OLD:
            # No new worker: the master refused the configuration and kept the old one.
            logs = container.logs(tail=5).decode(errors="replace").strip()
            raise DeployFailed(
                f"nginx kept its previous configuration after {RELOAD_TIMEOUT_SECONDS}s: "
                f"{logs[-400:]}"
            )
        if code != 0:
            raise DeployFailed(f"nginx reload failed: {output[-400:]}")

    def _check_shared(self, container: Container, current: Mapping[str, bytes]) -> None:
        """The running proxy is bound where this site wants it, is on the site's network,
        and no other site of its ``current`` configuration already answers for this
        hostname."""
        bindings = container.attrs["HostConfig"].get("PortBindings") or {}
        bound = (bindings.get(f"{CONTAINER_PORT}/tcp") or [{}])[0].get("HostIp", "")
        if bound != self.edge.bind:
            raise DeployFailed(
                f"edge port {self.edge.port} is served by {self.name} bound to {bound or 'all'}"
                f", not {self.edge.bind}: give this environment another edge port"
            )
        server_name = f"        server_name {self.edge.hostname};".encode()
        others = sorted(
            name
            for name, content in current.items()
            if name.startswith("sites/")
            and name.endswith(".conf")
            and name != self.site_file
            and server_name in content.splitlines()
        )
        if others:
            other = others[0].removeprefix("sites/").removesuffix(".conf")
            raise DeployFailed(
                f"hostname {self.edge.hostname} on edge port {self.edge.port} is already served"
                f" by {other}: give this environment its own hostname"
            )
        networks = container.attrs["NetworkSettings"].get("Networks") or {}
        if self.network not in networks:
            self.client.networks.get(self.network).connect(container)

    def _configuration(self, container: Container) -> dict[str, bytes]:
        """Every file of the proxy's configuration, by its name under ``CONF_DIR``, read in
        one archive from the engine (one ``docker exec`` per file cost a switch ~0.5 s)."""
        stream, _stat = container.get_archive(CONF_DIR)
        files: dict[str, bytes] = {}
        with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
            for member in tar.getmembers():
                extracted = tar.extractfile(member) if member.isfile() else None
                if extracted is not None:  # the archive's names start with CONF_DIR's own
                    files[member.name.partition("/")[2]] = extracted.read()
        return files

    def _restore(self, container: Container, image: str, previous: bytes | None) -> None:
        if previous is not None:
            self._put(image, {self.site_file: previous})
        else:
            self._delete(image, (self.site_file,))

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
            labels={LABEL_ROLE: "edge", f"{LABEL}.edge.port": str(self.edge.port)},
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
                self._join_networks(container)
                return
            time.sleep(0.2)
        raise DeployFailed(f"edge proxy {self.name} did not start within {START_TIMEOUT_SECONDS}s")

    def _join_networks(self, container: Container) -> None:
        """A proxy started again (it died, or its container was lost) joins the private
        network of every site its volume holds, not only this one's."""
        code, output = self._exec(container, "sh", "-c", f"cat {CONF_DIR}/networks/* || true")
        joined = set((container.attrs["NetworkSettings"].get("Networks") or {}).keys())
        for network in sorted(set(output.split()) - joined if code == 0 else set()):
            with suppress(ToolCrashed), docker_errors(f"could not join network {network}"):
                self.client.networks.get(network).connect(container)

    def _remove_legacy(self) -> None:
        """The proxy of an environment from before edges were shared held the same port."""
        legacy = find_container(self.client, f"shiprail-{self.environment}-edge")
        if legacy is not None and legacy.labels.get(LABEL_ROLE) == "edge":
            legacy.remove(force=True)

    def remove(self) -> None:
        """Take this site off the edge; the last site removes the proxy and its
        configuration volume (``shiprail`` teardown and tests)."""
        with docker_errors(f"could not remove the edge proxy {self.name}"):
            container = self._container()
            if container is not None and container.status == "running":
                site = (self.site_file, f"tls/{self.site}", f"htpasswd/{self.site}")
                self._delete(container.attrs["Config"]["Image"], (*site, f"networks/{self.site}"))
                code, output = self._exec(container, "sh", "-c", f"ls {CONF_DIR}/sites")
                if code == 0 and output.strip():
                    self._reload(container)
                    return
            if container is not None:
                container.remove(force=True)
        # The volume may not exist (the proxy never started).
        with suppress(ToolCrashed), docker_errors(f"could not remove {self.volume}"):
            self.client.volumes.get(self.volume).remove(force=True)
