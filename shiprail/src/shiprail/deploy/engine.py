"""The release engine behind ``shiprail deploy / promote / approve / rollback / status /
history / prune``.

Data flows one way: config → plan → ledger intent → action → ledger outcome. Every change
to an environment happens under the environment's lock in the ledger; an attempt left open
by a killed process is closed as ``interrupted`` by the next run, which also puts the live
release back in front of the proxy. The engine talks to Docker, the proxy and the metrics
only through :class:`Target`, :class:`Router` and :class:`Analysis`, handed in as a
:class:`Platform`, so tests drive it with fakes and production with the real things.
"""

from __future__ import annotations

import os
import re
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from shiprail.config import ShiprailConfig
from shiprail.deploy import approvals
from shiprail.deploy.analysis.interface import Analysis
from shiprail.deploy.ledger import Ledger, Release, utcnow
from shiprail.deploy.monitoring_targets import write_targets
from shiprail.deploy.routers.interface import Router
from shiprail.deploy.settings import EnvironmentConfig
from shiprail.deploy.strategies import (
    STOP_GRACE_SECONDS,
    Rollout,
    WatchFailed,
    other_colour,
    route_for,
    run_smoke,
)
from shiprail.deploy.targets.interface import Instance, ReleaseSpec, Target
from shiprail.errors import ApprovalPending, ConfigError, DeployFailed, ShiprailError, UsageError

if TYPE_CHECKING:
    from shiprail._docker import DockerClient

_DURATION = re.compile(r"^(\d+)([smhdw])$")
_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    """``7d``, ``12h``, ``30m``, ``2w`` or ``90s``."""
    match = _DURATION.match(text.strip())
    if not match:
        raise UsageError(f"'{text}' is not a duration", hint="use a number and s/m/h/d/w, e.g. 7d")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


@dataclass
class Platform:
    """Factories for the things the engine acts on, per environment."""

    target: Callable[[str, EnvironmentConfig], Target]
    router: Callable[[str, EnvironmentConfig, Target], Router]
    analysis: Callable[[], Analysis]


def docker_platform(root: Path, state: Path, prometheus_url: str | None = None) -> Platform:
    """The real platform: Docker Engine targets, nginx/Traefik routers, and the watch read from
    Prometheus when ``monitoring.prometheus_url`` is set, else from the replicas' /metrics."""
    clients: dict[str, DockerClient] = {}

    def client(name: str) -> DockerClient:
        """One client per engine (``local`` or an ``ssh://`` URL), shared by target and edge."""
        from shiprail.deploy.targets.docker import connect

        if name not in clients:
            clients[name] = connect(name)
        return clients[name]

    def target(_environment: str, cfg: EnvironmentConfig) -> Target:
        from shiprail.deploy.targets.docker import DockerTarget

        return DockerTarget(client(cfg.target))

    def router(environment: str, cfg: EnvironmentConfig, _target: Target) -> Router:
        from shiprail.deploy.tls import htpasswd_content, tls_material

        if cfg.edge.router == "traefik":
            from shiprail.deploy.routers.traefik import TraefikRouter

            directory = Path(cfg.edge.traefik_dynamic_dir)
            return TraefikRouter(
                environment=environment,
                edge=cfg.edge,
                dynamic_dir=directory if directory.is_absolute() else root / directory,
            )
        from shiprail.deploy.routers.nginx import NginxRouter

        auth = cfg.edge.basic_auth
        if auth is not None and not Path(auth.htpasswd_file).is_absolute():
            auth = auth.model_copy(update={"htpasswd_file": str(root / auth.htpasswd_file)})
        return NginxRouter(
            client(cfg.target),
            environment=environment,
            edge=cfg.edge,
            network=cfg.network_name(environment),
            tls=tls_material(cfg.edge.tls, state, environment, cfg.edge.hostname),
            htpasswd=htpasswd_content(auth, environment) if auth else None,
        )

    def analysis() -> Analysis:
        if prometheus_url:
            from shiprail.deploy.analysis.prometheus import PrometheusAnalysis
            from shiprail.observe.promapi import PrometheusAPI

            return PrometheusAnalysis(PrometheusAPI(prometheus_url))
        from shiprail.deploy.analysis.metrics import MetricsAnalysis

        return MetricsAnalysis()

    return Platform(target, router, analysis)


class Engine:
    def __init__(
        self,
        config: ShiprailConfig,
        ledger: Ledger,
        platform: Platform,
        *,
        file_sd_dir: Path,
        root: Path | None = None,
        actor: str | None = None,
        say: Callable[[str], None] = lambda _m: None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        smoke_client: httpx.Client | None = None,
    ) -> None:
        self.config = config
        self.ledger = ledger
        self.platform = platform
        self.file_sd_dir = file_sd_dir
        self.root = root or Path.cwd()
        self.actor = actor or approvals.current_actor()
        self.say = say
        self.sleep = sleep
        self.clock = clock
        self.smoke_client = smoke_client

    # -- helpers ------------------------------------------------------------------------
    def env(self, name: str) -> EnvironmentConfig:
        try:
            return self.config.environments[name]
        except KeyError:
            known = ", ".join(self.config.environments) or "none"
            raise UsageError(
                f"unknown environment '{name}' (known: {known})",
                hint="environments are declared under 'environments:' in shiprail.yaml",
            ) from None

    @property
    def holder(self) -> str:
        return f"{self.actor}@{socket.gethostname()} pid {os.getpid()}"

    def _secrets(self, environment: str, cfg: EnvironmentConfig) -> dict[str, bytes]:
        values: dict[str, bytes] = {}
        for name, ref in cfg.secrets.items():
            where = f"environments.{environment}.secrets.{name}"
            if ref.env is not None:
                value = os.environ.get(ref.env)
                if value is None:
                    raise ConfigError(f"{where}: environment variable {ref.env} is not set")
                values[name] = value.encode()
            else:
                assert ref.file is not None
                path = Path(ref.file)
                path = path if path.is_absolute() else self.root / path
                try:
                    values[name] = path.read_bytes()
                except OSError as exc:
                    raise ConfigError(f"{where}: cannot read {ref.file}: {exc.strerror}") from None
        return values

    def _release_spec(
        self,
        environment: str,
        cfg: EnvironmentConfig,
        release: Release,
        secrets: dict[str, bytes],
    ) -> ReleaseSpec:
        """What the target starts for ``release`` in ``environment``."""
        return ReleaseSpec(
            environment=environment,
            release_id=release.id,
            colour=release.colour,
            image=release.image,
            replicas=cfg.replicas,
            cpus=cfg.cpus,
            memory_bytes=cfg.memory_bytes,
            network=cfg.network_name(environment),
            container_port=cfg.container_port,
            health_path=cfg.health.path,
            health_interval_seconds=cfg.health.interval_seconds,
            env=self._env(environment, cfg, release.id),
            secrets=secrets,
            pre_start_command=tuple(cfg.pre_start) if cfg.pre_start else None,
        )

    def _env(self, environment: str, cfg: EnvironmentConfig, release_id: str) -> dict[str, str]:
        """The container environment; ``${NAME}`` values are read from shiprail's own
        environment at deploy time (for values that differ per site, such as token hashes)."""
        values = {}
        for key, value in cfg.env.items():
            match = _REFERENCE.fullmatch(value)
            if match:
                found = os.environ.get(match.group(1))
                if found is None:
                    raise ConfigError(
                        f"environments.{environment}.env.{key}: environment variable "
                        f"{match.group(1)} is not set"
                    )
                value = found
            values[key] = value
        return {**values, "SHIPRAIL_RELEASE": release_id}

    def _on_switch(self, environment: str) -> Callable[[list[Instance]], None]:
        def write(instances: list[Instance]) -> None:
            write_targets(
                self.file_sd_dir,
                environment=environment,
                release_id=instances[0].release_id,
                colour=instances[0].colour,
                addresses=[i.address for i in instances if i.url],
            )

        return write

    def _running(self, target: Target, environment: str, release: Release | None) -> list[Instance]:
        if release is None:
            return []
        instances = target.instances(environment, release.id)
        if instances and not all(i.running for i in instances):
            self.say(f"restarting the stopped replicas of the live release {release.id}")
            instances = target.wait_healthy(target.resume(environment, release.id), 120)
        return instances

    def _recover(self, environment: str, cfg: EnvironmentConfig, target: Target) -> None:
        """Close attempts a killed process left open and put the live release back in front."""
        open_attempts = self.ledger.open_attempts(environment)
        if not open_attempts:
            return
        live = self.ledger.live_release(environment)
        for attempt in open_attempts:
            self.say(
                f"recovering: attempt {attempt.id} ({attempt.action} {attempt.release_id}) "
                "was interrupted"
            )
            self.ledger.finish_attempt(
                attempt.id, status="interrupted", reason="the process ended before the outcome"
            )
            release = self.ledger.release(attempt.release_id)
            if release is not None and release.status == "pending":
                self.ledger.set_release_status(release.id, "failed")
                target.remove(target.instances(environment, release.id))
        previous = self._running(target, environment, live)
        if previous:
            router = self.platform.router(environment, cfg, target)
            router.switch(route_for(environment, cfg.edge.hostname, previous, cfg.container_port))
            self._on_switch(environment)(previous)

    def _retain(self, environment: str, cfg: EnvironmentConfig, target: Target) -> None:
        """Keep the live release and the last ``keep_releases`` ones; remove the rest."""
        keep = self._kept_releases(environment, cfg)
        doomed = [i for i in target.instances(environment) if i.release_id not in keep]
        if doomed:
            self.say(f"removing containers of {len({i.release_id for i in doomed})} old release(s)")
            target.remove(doomed)

    def _kept_releases(self, environment: str, cfg: EnvironmentConfig) -> set[str]:
        releases = self.ledger.releases(environment)
        keep = {r.id for r in releases if r.status == "live"}
        earlier = [r for r in releases if r.status in ("retired", "rolled_back")]
        earlier.sort(key=lambda r: r.live_at or r.created_at, reverse=True)
        keep.update(r.id for r in earlier[: cfg.keep_releases])
        return keep

    # -- commands -----------------------------------------------------------------------
    def deploy(
        self,
        environment: str,
        image: str,
        *,
        wait: bool = False,
        source_release: str | None = None,
    ) -> Release:
        cfg = self.env(environment)
        if cfg.requires_approval and source_release is None:
            raise ApprovalPending(
                f"{environment} takes releases by approved promotion only",
                hint=f"shiprail promote <from> {environment}, then shiprail approve {environment}"
                " RELEASE --reason '...'",
            )
        secrets = self._secrets(environment, cfg)
        self._env(environment, cfg, "")  # configuration errors before anything is recorded
        target = self.platform.target(environment, cfg)
        digest, git_sha = target.image_digest(image)
        with self.ledger.lock(environment, self.holder, wait=wait):
            self._recover(environment, cfg, target)
            live = self.ledger.live_release(environment)
            previous = self._running(target, environment, live)
            router = self.platform.router(environment, cfg, target)
            analysis = self.platform.analysis()
            release = self.ledger.create_release(
                environment=environment,
                image=image,
                image_digest=digest,
                git_sha=git_sha,
                created_by=self.actor,
                colour=other_colour(live.colour if live else None),
                source_release=source_release,
            )
            action = "promote" if source_release else "deploy"
            attempt = self.ledger.begin_attempt(
                environment=environment,
                release_id=release.id,
                action=action,
                actor=self.actor,
                holder=self.holder,
            )
            self.say(
                f"{action} {image} to {environment} as release {release.id} ({release.colour})"
            )
            spec = self._release_spec(environment, cfg, release, secrets)
            rollout = Rollout(
                environment=environment,
                config=cfg,
                target=target,
                router=router,
                analysis=analysis,
                spec=spec,
                previous=previous,
                on_switch=self._on_switch(environment),
                say=self.say,
                sleep=self.sleep,
                clock=self.clock,
                smoke_client=self.smoke_client,
            )
            try:
                rollout.run()
            except BaseException as exc:
                reason = exc.message if isinstance(exc, ShiprailError) else repr(exc)
                self.ledger.set_release_status(release.id, "failed")
                self.ledger.finish_attempt(
                    attempt, status="failed", reason=reason, timings=rollout.timings
                )
                if isinstance(exc, WatchFailed) and live is not None:
                    rollback = self.ledger.begin_attempt(
                        environment=environment,
                        release_id=live.id,
                        action="rollback",
                        actor="shiprail (automatic)",
                        holder=self.holder,
                    )
                    self.ledger.finish_attempt(rollback, status="succeeded", cause=reason)
                if not isinstance(exc, ShiprailError | KeyboardInterrupt):
                    raise
                kept = f"{live.id} is still serving" if live else "no previous release to serve"
                raise DeployFailed(
                    f"release {release.id} failed in {environment}: {reason}; {kept}"
                ) from None
            self.ledger.set_release_status(release.id, "live")
            if live is not None:
                self.ledger.set_release_status(live.id, "retired")
            self.ledger.finish_attempt(attempt, status="succeeded", timings=rollout.timings)
            self._retain(environment, cfg, target)
        result = self.ledger.release(release.id)
        assert result is not None
        return result

    def promote(self, source: str, destination: str, *, wait: bool = False) -> Release:
        self.env(source)
        cfg = self.env(destination)
        live = self.ledger.live_release(source)
        if live is None:
            raise UsageError(f"nothing to promote: no release is live in {source}")
        if cfg.requires_approval:
            try:
                approvals.require_approval(self.ledger, destination, live)
            except ApprovalPending:
                attempt = self.ledger.begin_attempt(
                    environment=destination,
                    release_id=live.id,
                    action="promote",
                    actor=self.actor,
                )
                self.ledger.finish_attempt(
                    attempt, status="awaiting-approval", reason=f"from {source}, no approval yet"
                )
                raise
        target = self.platform.target(destination, cfg)
        digest, _sha = target.image_digest(live.image)
        if digest != live.image_digest:
            raise DeployFailed(
                f"image {live.image} on the {destination} engine is {digest[:19]}, but {source} "
                f"runs {live.image_digest[:19]}: refusing to promote a different build",
            )
        return self.deploy(destination, live.image, wait=wait, source_release=live.id)

    def approve(self, environment: str, release_id: str, reason: str) -> Any:
        self.env(environment)
        return approvals.approve(self.ledger, environment, release_id, self.actor, reason)

    def rollback(
        self, environment: str, to: str | None = None, *, wait: bool = False, reason: str = ""
    ) -> Release:
        cfg = self.env(environment)
        target = self.platform.target(environment, cfg)
        with self.ledger.lock(environment, self.holder, wait=wait):
            self._recover(environment, cfg, target)
            live = self.ledger.live_release(environment)
            chosen = self._rollback_choice(environment, live, to)
            attempt = self.ledger.begin_attempt(
                environment=environment,
                release_id=chosen.id,
                action="rollback",
                actor=self.actor,
                holder=self.holder,
            )
            cause = reason or f"manual rollback from {live.id if live else 'nothing'}"
            timings: dict[str, float] = {}
            began = self.clock()
            try:
                self._switch_to_retained(environment, cfg, target, chosen, live, timings)
            except BaseException as exc:
                message = exc.message if isinstance(exc, ShiprailError) else repr(exc)
                self.ledger.finish_attempt(
                    attempt, status="failed", reason=message, cause=cause, timings=timings
                )
                if isinstance(exc, ShiprailError | KeyboardInterrupt):
                    raise DeployFailed(f"rollback to {chosen.id} failed: {message}") from None
                raise
            timings["total"] = self.clock() - began
            self.ledger.set_release_status(chosen.id, "live")
            if live is not None:
                self.ledger.set_release_status(live.id, "rolled_back")
            self.ledger.finish_attempt(attempt, status="succeeded", cause=cause, timings=timings)
        result = self.ledger.release(chosen.id)
        assert result is not None
        return result

    def _rollback_choice(self, environment: str, live: Release | None, to: str | None) -> Release:
        if to is not None:
            chosen = self.ledger.release(to)
            if chosen is None or chosen.environment != environment:
                raise UsageError(f"release '{to}' was never deployed to {environment}")
            if chosen.live_at is None:
                raise UsageError(
                    f"release '{to}' never served {environment}; cannot roll back to it"
                )
            if live is not None and chosen.id == live.id:
                raise UsageError(f"release '{to}' is already live in {environment}")
            return chosen
        candidates = [
            r
            for r in self.ledger.releases(environment)
            if r.status in ("retired", "rolled_back") and r.live_at is not None
        ]
        candidates.sort(key=lambda r: r.live_at or r.created_at, reverse=True)
        if not candidates:
            raise UsageError(f"no earlier release of {environment} to roll back to")
        return candidates[0]

    def _switch_to_retained(
        self,
        environment: str,
        cfg: EnvironmentConfig,
        target: Target,
        chosen: Release,
        live: Release | None,
        timings: dict[str, float],
    ) -> None:
        current = self._running(target, environment, live)
        t = self.clock()
        instances = target.resume(environment, chosen.id)
        if instances:
            self.say(f"restarting the retained containers of {chosen.id}")
        else:
            self.say(f"no retained containers for {chosen.id}: starting {chosen.image} again")
            spec = self._release_spec(environment, cfg, chosen, self._secrets(environment, cfg))
            # The database is already at this release's schema or newer: no pre-start step.
            instances = target.start(replace(spec, pre_start_command=None))
        timings["start"] = self.clock() - t
        switched = False
        router = self.platform.router(environment, cfg, target)
        try:
            t = self.clock()
            instances = target.wait_healthy(instances, cfg.health.timeout_seconds)
            timings["healthy"] = self.clock() - t
            run_smoke(instances, cfg.smoke, self.smoke_client)
            t = self.clock()
            router.switch(route_for(environment, cfg.edge.hostname, instances, cfg.container_port))
            switched = True
            self._on_switch(environment)(instances)
            timings["switch"] = self.clock() - t
        except BaseException:
            if switched and current:
                router.switch(
                    route_for(environment, cfg.edge.hostname, current, cfg.container_port)
                )
                self._on_switch(environment)(current)
            target.stop(instances, STOP_GRACE_SECONDS)
            raise
        if current:
            self.sleep(cfg.drain_seconds)
            target.stop(current, STOP_GRACE_SECONDS)

    # -- read-only views ----------------------------------------------------------------
    def status(self, environment: str | None = None) -> list[dict[str, Any]]:
        names = [environment] if environment else list(self.config.environments)
        rows = []
        for name in names:
            cfg = self.env(name)
            live = self.ledger.live_release(name)
            replicas: dict[str, Any] = {"expected": cfg.replicas, "running": None}
            if live is not None:
                try:
                    instances = self.platform.target(name, cfg).instances(name, live.id)
                    replicas["running"] = sum(1 for i in instances if i.running)
                except ShiprailError:
                    pass
            lock = self.ledger.lock_info(name)
            port = "" if cfg.edge.port == 443 else f":{cfg.edge.port}"
            rows.append(
                {
                    "environment": name,
                    "url": f"https://{cfg.edge.hostname}{port}/",
                    "requires_approval": cfg.requires_approval,
                    "release": live.as_json() if live else None,
                    "replicas": replicas,
                    "locked_by": lock.holder if lock else None,
                }
            )
        return rows

    def history(self, environment: str, limit: int = 50) -> list[dict[str, Any]]:
        self.env(environment)
        rows = []
        for attempt in self.ledger.attempts(environment, limit=limit):
            row = attempt.as_json()
            release = self.ledger.release(attempt.release_id)
            if release is not None:
                row["image"] = release.image
                row["image_digest"] = release.image_digest
                row["git_sha"] = release.git_sha
                row["release_status"] = release.status
            approved_id = (release.source_release if release else None) or attempt.release_id
            approval = self.ledger.approval(environment, approved_id)
            if approval is not None and attempt.action == "promote":
                row["approval"] = {
                    "approver": approval.approver,
                    "reason": approval.reason,
                    "at": approval.created_at.isoformat(),
                }
            rows.append(row)
        return rows

    def prune(self, older_than: timedelta) -> dict[str, list[str]]:
        """Remove containers and images of releases older than ``older_than`` that neither
        serve nor belong to the last ``keep_releases`` releases of any environment."""
        cutoff = utcnow() - older_than
        removed_containers: list[str] = []
        candidates: dict[str, Target] = {}
        needed_images: set[str] = set()
        for name, cfg in self.config.environments.items():
            target = self.platform.target(name, cfg)
            keep = self._kept_releases(name, cfg)
            for release in self.ledger.releases(name):
                if release.id in keep or release.status == "pending":
                    needed_images.add(release.image)
                    continue
                if release.created_at > cutoff:
                    needed_images.add(release.image)
                    continue
                doomed = target.instances(name, release.id)
                if doomed:
                    target.remove(doomed)
                    removed_containers.extend(i.name for i in doomed)
                candidates[release.image] = target
            for instance in target.instances(name):
                needed_images.add(instance.image)
        removed_images = [
            image
            for image, target in sorted(candidates.items())
            if image not in needed_images and target.remove_image(image)
        ]
        return {"containers": removed_containers, "images": removed_images}
