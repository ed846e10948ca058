"""Release containers on a Docker Engine: the local socket or a remote engine over ``ssh://``.

Every replica is started hardened: the image's non-root user (root is refused), a read-only
root filesystem with a tmpfs on /tmp, ``no-new-privileges``, every capability dropped, memory,
CPU and process limits, a restart policy, a health check, the environment's private network,
and its port published on 127.0.0.1 only (for smoke checks and metrics). Secrets go into a
per-release volume through the Docker archive API and are mounted read-only: they never touch
the image, the host disk, an environment variable or a log.

Docker SDK errors are translated into the shiprail error tree by :mod:`shiprail._docker`:
the message names what was being done, the class is what this target's contract says
(``DeployFailed`` while starting a release, ``ToolCrashed`` for the engine failing otherwise).
"""

from __future__ import annotations

import io
import tarfile
import time
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from shiprail._docker import (
    RESTART_UNLESS_STOPPED,
    any_port,
    at_once,
    docker_client,
    docker_errors,
    find_container,
    find_image,
    find_network,
    find_volume,
)
from shiprail.deploy.targets.interface import Instance, ReleaseSpec, Target
from shiprail.errors import DeployFailed, ToolCrashed, UsageError
from shiprail.naming import DEFAULT_SERVICE, Scope

if TYPE_CHECKING:
    from shiprail._docker import Container, DockerClient, Image

LABEL = "io.shiprail"
LABEL_ENV = f"{LABEL}.environment"
LABEL_RELEASE = f"{LABEL}.release"
LABEL_COLOUR = f"{LABEL}.colour"
LABEL_ROLE = f"{LABEL}.role"
LABEL_SERVICE = f"{LABEL}.service"
LABEL_HEALTH = f"{LABEL}.health"
#: How often wait_healthy looks at the containers and probes their health endpoint.
POLL_SECONDS = 0.1
#: Seconds one readiness probe may take while a replica starts.
PROBE_TIMEOUT_SECONDS = 1.0
#: One-off pre-start commands (migrations) must finish within this time.
PRE_START_TIMEOUT_SECONDS = 300
SECRETS_DIR = "/run/secrets"
TMPFS = {"/tmp": "rw,noexec,nosuid,nodev,size=64m"}  # noqa: S108 - a private tmpfs
PIDS_LIMIT = 256
_NS = 1_000_000_000


def connect(target: str) -> DockerClient:
    """A Docker client for ``local`` (the socket, or DOCKER_HOST) or an ``ssh://`` URL."""
    return docker_client(None if target == "local" else target)


class DockerTarget(Target):
    """The :class:`Target` on a Docker Engine (``client`` from :func:`connect`) for one
    service: every name comes from :class:`Scope`, every resource carries the service label,
    and only the service's own containers are ever listed, stopped or removed."""

    def __init__(
        self,
        client: DockerClient,
        *,
        service: str = DEFAULT_SERVICE,
        publish_host: str = "127.0.0.1",
        probe_host: str = "127.0.0.1",
    ) -> None:
        self.client = client
        self.service = service
        self.publish_host = publish_host
        self.probe_host = probe_host

    def scope(self, environment: str) -> Scope:
        return Scope(self.service, environment)

    def labels(self, environment: str, **more: str) -> dict[str, str]:
        """The labels of everything created for ``environment`` (plus ``more``)."""
        return {LABEL_SERVICE: self.service, LABEL_ENV: environment, **more}

    # -- helpers ------------------------------------------------------------------------
    def ensure_network(self, name: str, environment: str) -> None:
        if find_network(self.client, name) is None:
            self.client.networks.create(
                name, driver="bridge", labels=self.labels(environment, **{LABEL_ROLE: "network"})
            )

    def _instance(self, container: Container, network: str | None = None) -> Instance:
        container.reload()
        labels = container.labels
        settings = container.attrs["NetworkSettings"]
        networks = settings.get("Networks") or {}
        net = networks.get(network) if network else next(iter(networks.values()), None)
        ip = (net or {}).get("IPAddress") or ""
        port = labels.get(f"{LABEL}.port", "8000")
        bindings = (settings.get("Ports") or {}).get(f"{port}/tcp") or []
        host_port = bindings[0]["HostPort"] if bindings else ""
        return Instance(
            name=container.name or "",
            environment=labels.get(LABEL_ENV, ""),
            release_id=labels.get(LABEL_RELEASE, ""),
            colour=labels.get(LABEL_COLOUR, ""),
            upstream=f"{ip}:{port}" if ip else "",
            url=f"http://{self.probe_host}:{host_port}" if host_port else "",
            running=container.status == "running",
            image=container.attrs["Config"]["Image"],
        )

    def _user_of(self, image: Image) -> str:
        user = (image.attrs.get("Config") or {}).get("User") or ""
        if user.split(":")[0] in ("", "0", "root"):
            raise UsageError(
                f"image {image.tags[0] if image.tags else str(image.id)[:19]} runs as root",
                hint="release images must set a non-root USER (the workorders image uses 10001)",
            )
        return str(user)

    # -- Target -------------------------------------------------------------------------
    def image_digest(self, image: str) -> tuple[str, str]:
        with docker_errors(f"Docker Engine error reading image {image}"):
            found = find_image(self.client, image)
        if found is None:
            raise UsageError(
                f"image '{image}' is not on the target engine",
                hint="build it first: shiprail build image (or make image)",
            )
        labels = (found.attrs.get("Config") or {}).get("Labels") or {}
        return str(found.id), str(labels.get("org.opencontainers.image.revision", "unknown"))

    def pull(self, reference: str, auth: dict[str, str] | None) -> None:
        """Pull by digest (``repo@sha256:...``) unless the engine already has that content."""
        with docker_errors(f"Docker Engine error reading image {reference}"):
            if find_image(self.client, reference) is not None:
                return
        repository, _, digest = reference.partition("@")
        if not digest:
            raise UsageError(
                f"image '{reference}' is not on the target engine and is not a reference by "
                "digest to pull",
                hint="build it first: shiprail build image (or make image)",
            )
        with docker_errors(f"could not pull {reference}", DeployFailed):
            self.client.images.pull(repository, tag=digest, auth_config=auth)

    def start(self, spec: ReleaseSpec) -> list[Instance]:
        with docker_errors(f"Docker Engine refused to start {spec.release_id}", DeployFailed):
            return self._start(spec)

    def _secrets_volume(self, spec: ReleaseSpec, user: str) -> str | None:
        if not spec.secrets:
            return None
        name = self.scope(spec.environment).secrets_volume(spec.release_id)
        self.client.volumes.create(
            name, labels=self.labels(spec.environment, **{LABEL_RELEASE: spec.release_id})
        )
        uid, _, gid = user.partition(":")
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            for key, content in spec.secrets.items():
                info = tarfile.TarInfo(key)
                info.size = len(content)
                info.mode = 0o400
                info.uid = int(uid) if uid.isdigit() else 0
                info.gid = int(gid) if gid.isdigit() else info.uid
                tar.addfile(info, io.BytesIO(content))
        helper = self.client.containers.create(
            spec.image,
            command=["true"],
            volumes={name: {"bind": "/s", "mode": "rw"}},
            network_disabled=True,
            labels=self.labels(spec.environment, **{LABEL_ROLE: "helper"}),
        )
        try:
            helper.put_archive("/s", buffer.getvalue())
        finally:
            helper.remove(force=True)
        return name

    def _hardening(self, spec: ReleaseSpec, user: str) -> dict[str, Any]:
        return {
            "user": user,
            "read_only": True,
            "tmpfs": TMPFS,
            "security_opt": ["no-new-privileges:true"],
            "cap_drop": ["ALL"],
            "mem_limit": spec.memory_bytes,
            "memswap_limit": spec.memory_bytes,
            "nano_cpus": int(spec.cpus * _NS),
            "pids_limit": PIDS_LIMIT,
            "environment": dict(spec.env),
            "network": spec.network,
        }

    def _data_volume(self, spec: ReleaseSpec, user: str) -> str:
        """The service's data volume, created labelled. Once, on the first start after an
        upgrade, the data of the volume named before names carried the service is copied in
        when that environment's unlabelled (older) replicas show it was this service's."""
        scope = self.scope(spec.environment)
        if find_volume(self.client, scope.data_volume) is not None:
            return scope.data_volume
        self.client.volumes.create(scope.data_volume, labels=self.labels(spec.environment))
        legacy = find_volume(self.client, scope.legacy_data_volume)
        labels = [f"{LABEL_ENV}={spec.environment}", f"{LABEL_ROLE}=replica"]
        older = self.client.containers.list(all=True, filters={"label": labels})
        if legacy is not None and any(LABEL_SERVICE not in c.labels for c in older):
            copy = "import shutil; shutil.copytree('/old', '/data', dirs_exist_ok=True)"
            self.client.containers.run(
                spec.image,
                command=["python3", "-c", copy],
                remove=True,
                user=user,
                network_disabled=True,
                volumes={
                    scope.legacy_data_volume: {"bind": "/old", "mode": "ro"},
                    scope.data_volume: {"bind": "/data", "mode": "rw"},
                },
                labels=self.labels(spec.environment, **{LABEL_ROLE: "helper"}),
            )
        return scope.data_volume

    def _volumes(self, spec: ReleaseSpec, user: str, secrets: str | None) -> dict[str, Any]:
        volumes: dict[str, Any] = {self._data_volume(spec, user): {"bind": "/data", "mode": "rw"}}
        if secrets:
            volumes[secrets] = {"bind": SECRETS_DIR, "mode": "ro"}
        return volumes

    def _start(self, spec: ReleaseSpec) -> list[Instance]:
        image = self.client.images.get(spec.image)
        user = self._user_of(image)
        self.ensure_network(spec.network, spec.environment)
        secrets_volume = self._secrets_volume(spec, user)
        volumes = self._volumes(spec, user, secrets_volume)
        labels = self.labels(
            spec.environment,
            **{
                LABEL_RELEASE: spec.release_id,
                LABEL_COLOUR: spec.colour,
                f"{LABEL}.port": str(spec.container_port),
                LABEL_HEALTH: spec.health_path,
            },
        )
        if spec.pre_start_command:
            self._run_once(spec, user, volumes, labels)
        probe = (
            "import urllib.request,sys; urllib.request.urlopen("
            f"'http://127.0.0.1:{spec.container_port}{spec.health_path}', timeout=2)"
        )
        interval = int(spec.health_interval_seconds * _NS)

        def create_and_start(index: int) -> Container:
            container = self.client.containers.create(
                spec.image,
                name=self.scope(spec.environment).container(spec.release_id, index),
                hostname=f"{spec.environment}-{spec.colour}-{index}",
                labels={**labels, LABEL_ROLE: "replica"},
                restart_policy=RESTART_UNLESS_STOPPED,
                healthcheck={
                    "test": ["CMD", "python3", "-c", probe],
                    "interval": interval,
                    "timeout": 3 * _NS,
                    "retries": 3,
                    "start_period": 60 * _NS,
                    "start_interval": interval,
                },
                ports={f"{spec.container_port}/tcp": any_port(self.publish_host)},
                volumes=volumes,
                **self._hardening(spec, user),
            )
            container.start()
            return container

        containers = at_once(create_and_start, list(range(1, spec.replicas + 1)))
        return [self._instance(c, spec.network) for c in containers]

    def _run_once(
        self, spec: ReleaseSpec, user: str, volumes: dict[str, Any], labels: dict[str, str]
    ) -> None:
        assert spec.pre_start_command is not None
        container = self.client.containers.create(
            spec.image,
            command=list(spec.pre_start_command),
            name=self.scope(spec.environment).prestart(spec.release_id),
            labels={**labels, LABEL_ROLE: "prestart"},
            volumes=volumes,
            **self._hardening(spec, user),
        )
        try:
            container.start()
            result = container.wait(timeout=PRE_START_TIMEOUT_SECONDS)
            code = int(result.get("StatusCode", 1))
            if code != 0:
                tail = container.logs(tail=5).decode(errors="replace").strip()
                raise DeployFailed(
                    f"pre-start command {' '.join(spec.pre_start_command)} exited with {code}: "
                    + tail.replace("\n", " / ")[-400:]
                )
        finally:
            container.remove(force=True)

    def wait_healthy(self, instances: list[Instance], timeout: float) -> list[Instance]:
        deadline = time.monotonic() + timeout
        pending = {i.name for i in instances}
        with docker_errors("Docker Engine error while the replicas started"):
            while pending:
                pending -= {name for name in sorted(pending) if self._healthy(name)}
                if not pending:
                    break
                if time.monotonic() > deadline:
                    raise DeployFailed(
                        f"replicas {', '.join(sorted(pending))} not healthy within {timeout:.0f}s"
                    )
                time.sleep(POLL_SECONDS)
            return [self._instance(self.client.containers.get(i.name)) for i in instances]

    def _healthy(self, name: str) -> bool:
        """True once the replica is healthy; DeployFailed when it is gone, crashed or unhealthy
        (a replica that restarted has crashed, even if it is up again)."""
        container = find_container(self.client, name)
        if container is None:
            raise DeployFailed(f"replica {name} disappeared while starting")
        state = container.attrs["State"]
        health = (state.get("Health") or {}).get("Status")
        restarts = int(container.attrs.get("RestartCount") or 0)
        if state.get("Status") in ("exited", "dead") or restarts > 0 or state.get("Restarting"):
            raise DeployFailed(
                f"replica {name} crashed at start (exit code {state.get('ExitCode')}, "
                f"restarts {restarts}): {self._tail(container)}"
            )
        if health == "unhealthy":
            log = (state.get("Health") or {}).get("Log") or [{}]
            output = str(log[-1].get("Output", "")).strip().splitlines()[-1:]
            raise DeployFailed(
                f"replica {name} is unhealthy: {' '.join(output) or 'health check failed'}"
            )
        return health == "healthy" or self._answers(container)

    def _answers(self, container: Container) -> bool:
        """The replica's health endpoint answers 200 through its published port: ready now,
        without waiting for the engine's next health-check interval (which still guards it
        afterwards: a replica that turns unhealthy is restarted and counted as a crash)."""
        import httpx

        url = self._instance(container).url
        path = container.labels.get(LABEL_HEALTH)
        if not url or not path:
            return False
        try:
            return httpx.get(url + path, timeout=PROBE_TIMEOUT_SECONDS).status_code == 200
        except httpx.HTTPError:
            return False

    def _tail(self, container: Container, lines: int = 5) -> str:
        """The last log lines on one line, or "" when the engine cannot give them."""
        text = ""
        with suppress(ToolCrashed), docker_errors(f"could not read the logs of {container.name}"):
            text = container.logs(tail=lines).decode(errors="replace").strip()
        return text.replace("\n", " / ")[-500:]

    def logs_tail(self, instance: Instance, lines: int = 20) -> str:
        container = None
        with suppress(ToolCrashed), docker_errors(f"could not read {instance.name}"):
            container = find_container(self.client, instance.name)
        return self._tail(container, lines) if container is not None else ""

    def _containers(self, environment: str, release_id: str | None = None) -> list[Container]:
        filters = [f"{LABEL_ENV}={environment}", f"{LABEL_ROLE}=replica"]
        if release_id:
            filters.append(f"{LABEL_RELEASE}={release_id}")
        found = self.client.containers.list(all=True, filters={"label": filters})
        return [c for c in found if self._ours(c.labels)]

    def _ours(self, labels: dict[str, str]) -> bool:
        """The service's own, or unlabelled: made before names carried the service, when
        two services could not share an environment name on one engine anyway."""
        return labels.get(LABEL_SERVICE, self.service) == self.service

    def instances(self, environment: str, release_id: str | None = None) -> list[Instance]:
        with docker_errors("Docker Engine error listing containers"):
            found = self._containers(environment, release_id)
            return sorted((self._instance(c) for c in found), key=lambda i: i.name)

    def resume(self, environment: str, release_id: str) -> list[Instance]:
        action = f"could not restart retained containers of {release_id}"
        with docker_errors(action, DeployFailed):
            containers = self._containers(environment, release_id)
            stopped = [c for c in containers if c.status != "running"]
            at_once(lambda container: container.start(), stopped)
            return sorted((self._instance(c) for c in containers), key=lambda i: i.name)

    def stop(self, instances: list[Instance], grace_seconds: float = 10.0) -> None:
        def stop_one(instance: Instance) -> None:
            with docker_errors(f"could not stop {instance.name}"):
                container = find_container(self.client, instance.name)
                if container is not None:
                    container.stop(timeout=int(grace_seconds))

        at_once(stop_one, instances)

    def remove(self, instances: list[Instance]) -> None:
        releases = set()
        for instance in instances:
            releases.add((instance.environment, instance.release_id))
            with docker_errors(f"could not remove {instance.name}"):
                container = find_container(self.client, instance.name)
                if container is not None:
                    container.remove(force=True)
        for environment, release_id in releases:
            with docker_errors("Docker Engine error listing containers"):
                leftover = self._containers(environment, release_id)
            volume = self.scope(environment).secrets_volume(release_id)
            if not leftover:
                # The volume may never have existed (a release without secrets).
                with suppress(ToolCrashed), docker_errors(f"could not remove {volume}"):
                    self.client.volumes.get(volume).remove()

    def remove_image(self, image: str) -> bool:
        """False when the image is gone already or still used by a container."""
        try:
            with docker_errors(f"could not remove image {image}"):
                self.client.images.remove(image)
        except ToolCrashed:
            return False
        return True
