"""The release engine behind ``shiprail deploy / promote / approve / rollback / status /
history / prune``; how a release replaces another is its strategy (``strategies/``).

Data flows one way: config → plan → ledger intent → action → ledger outcome. Every change
to an environment happens under its lock in the ledger; an attempt a killed process left
open is closed as ``interrupted`` by the next run, which puts the live release back in
front of the proxy with all the traffic. The engine acts only through a :class:`Platform`
(target, router, analysis), so tests drive it with fakes and production with the real things.
"""

from __future__ import annotations

import functools
import os
import socket
import time
from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from shiprail.config import ShiprailConfig
from shiprail.deploy import approvals, progress, retention, views
from shiprail.deploy import spec as release_specs
from shiprail.deploy.admission import Admission
from shiprail.deploy.checkpoints import Step, checkpoint
from shiprail.deploy.ledger import Ledger
from shiprail.deploy.monitoring_targets import write_targets
from shiprail.deploy.outcomes import record_failure
from shiprail.deploy.platform import Platform
from shiprail.deploy.records import Release, utcnow
from shiprail.deploy.settings import EnvironmentConfig
from shiprail.deploy.states import Action, AttemptState, ReleaseState
from shiprail.deploy.strategies import (
    STOP_GRACE_SECONDS,
    RolloutBase,
    build_rollout,
    other_colour,
    route_for,
)
from shiprail.deploy.strategies.retained import switch_to_retained
from shiprail.deploy.targets.interface import Instance, ReleaseSpec, Target
from shiprail.errors import (
    ApprovalPending,
    DeployFailed,
    ShiprailError,
    UsageError,
)


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
        environ: Mapping[str, str] = os.environ,
    ) -> None:
        """``environ`` is where ``${NAME}`` values and ``env:`` secrets of ``shiprail.yaml``
        are read at deploy time (the process environment, a dict in tests)."""
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
        self.environ = environ

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
        return release_specs.read_secrets(environment, cfg, self.environ, self.root)

    def _release_spec(
        self,
        environment: str,
        cfg: EnvironmentConfig,
        release: Release,
        secrets: dict[str, bytes],
    ) -> ReleaseSpec:
        return release_specs.release_spec(
            environment, cfg, release, secrets, self.environ, self.config.service.name
        )

    def _on_switch(self, environment: str) -> Callable[[list[Instance]], None]:
        """file_sd for Prometheus on the host; a cluster's pods are found by its own."""
        if self.env(environment).kubernetes is not None:
            return lambda _instances: None

        def write(instances: list[Instance]) -> None:
            write_targets(
                self.file_sd_dir,
                environment=environment,
                service=self.config.service.name,
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
        """Close attempts a killed process left open and put the live release back in front
        (all traffic: an interrupted canary's split ends with the stable release at 100 %).
        The interrupted releases' replicas are stopped only once the edge no longer routes to
        them; a pending release's are removed, a rollback's retained release is kept."""
        open_attempts = self.ledger.open_attempts(environment)
        if not open_attempts:
            return
        live = self.ledger.live_release(environment)
        undone: list[Instance] = []
        doomed: set[str] = set()
        for attempt in open_attempts:
            self.say(
                f"recovering: attempt {attempt.id} ({attempt.action} {attempt.release_id}) "
                "was interrupted"
            )
            self.ledger.finish_attempt(
                attempt.id,
                status=AttemptState.interrupted,
                reason="the process ended before the outcome",
            )
            progress.close_interrupted(self.ledger, [attempt.id])
            release = self.ledger.release(attempt.release_id)
            if release is None or (live is not None and release.id == live.id):
                continue
            undone += target.instances(environment, release.id)
            if release.status == ReleaseState.pending:
                self.ledger.set_release_status(release.id, ReleaseState.failed)
                doomed.add(release.id)
        previous = self._running(target, environment, live)
        if previous:
            router = self.platform.router(environment, cfg, target)
            router.switch(route_for(environment, cfg.edge.hostname, previous, cfg.container_port))
            self._on_switch(environment)(previous)
        if undone:  # requests the edge sent them before the switch finish first
            target.stop(undone, STOP_GRACE_SECONDS)
            target.remove([i for i in undone if i.release_id in doomed])

    def _retain(self, environment: str, cfg: EnvironmentConfig, target: Target) -> None:
        """Keep the live release and the last ``keep_releases`` ones; remove the rest."""
        keep = self._kept_releases(environment, cfg)
        doomed = [i for i in target.instances(environment) if i.release_id not in keep]
        if doomed:
            self.say(f"removing containers of {len({i.release_id for i in doomed})} old release(s)")
            target.remove(doomed)

    def _kept_releases(self, environment: str, cfg: EnvironmentConfig) -> set[str]:
        return retention.kept_releases(self.ledger, environment, cfg.keep_releases)

    # -- commands -----------------------------------------------------------------------
    def deploy(
        self,
        environment: str,
        image: str,
        *,
        wait: bool = False,
        source_release: Release | None = None,
        commit: str | None = None,
    ) -> Release:
        """Admit ``image`` (verified unless dev says ``verify: false``), pull it by digest, roll
        it out. ``commit``: the commit shipped (None: HEAD; a promotion: its source's)."""
        cfg = self.env(environment)
        if cfg.requires_approval and source_release is None:
            raise ApprovalPending(
                f"{environment} takes releases by approved promotion only",
                hint=f"shiprail promote <from> {environment}, then shiprail approve {environment}"
                " RELEASE --reason '...'",
            )
        secrets = self._secrets(environment, cfg)
        release_specs.container_env(environment, cfg, "", self.environ)  # errors before records
        target = self.platform.target(environment, cfg)
        with self.ledger.lock(environment, self.holder, wait=wait):
            self._recover(environment, cfg, target)
            live = self.ledger.live_release(environment)
            release = self._admit(environment, cfg, target, image, commit, source_release, live)
            previous = self._running(target, environment, live)
            router = self.platform.router(environment, cfg, target)
            action = Action.promote if source_release else Action.deploy
            attempt = self.ledger.begin_attempt(
                environment=environment,
                release_id=release.id,
                action=action,
                actor=self.actor,
                holder=self.holder,
            )
            checkpoint(Step.INTENT_RECORDED, environment)
            self.say(
                f"{action} {release.image} to {environment} as release {release.id} "
                f"({release.colour}{', dirty tree' if release.dirty else ''})"
            )
            spec = self._release_spec(environment, cfg, release, secrets)
            rollout = build_rollout(
                environment=environment,
                config=cfg,
                platform=self.platform,
                target=target,
                router=router,
                spec=spec,
                previous=previous,
                on_switch=self._on_switch(environment),
                ledger=self.ledger,
                attempt_id=attempt,
                file_sd_dir=self.file_sd_dir,
                say=self.say,
                sleep=self.sleep,
                clock=self.clock,
                smoke_client=self.smoke_client,
            )
            try:
                rollout.run()
            except BaseException as exc:
                record_failure(
                    self.ledger,
                    holder=self.holder,
                    release=release,
                    attempt=attempt,
                    live=live,
                    exc=exc,
                    timings=rollout.timings,
                )
                raise  # only reached for errors outside the tree: bugs keep their traceback
            self._succeeded(environment, cfg, target, release, live, attempt, rollout)
        result = self.ledger.release(release.id)
        assert result is not None
        return result

    def _succeeded(
        self,
        environment: str,
        cfg: EnvironmentConfig,
        target: Target,
        release: Release,
        live: Release | None,
        attempt: int,
        rollout: RolloutBase,
    ) -> None:
        """Record a deploy's success (``release`` live, ``live`` retired), then prune."""
        self.ledger.set_release_status(release.id, ReleaseState.live)
        if live is not None:
            self.ledger.set_release_status(live.id, ReleaseState.retired)
        self.ledger.finish_attempt(
            attempt, status=AttemptState.succeeded, cause=rollout.cause, timings=rollout.timings
        )
        checkpoint(Step.OUTCOME_RECORDED, environment)
        self._retain(environment, cfg, target)
        checkpoint(Step.RETENTION_PRUNED, environment)

    def _admission(self) -> Admission:
        return Admission(self.ledger, self.platform.trust, self.actor, self.holder)

    def _admit(
        self,
        environment: str,
        cfg: EnvironmentConfig,
        target: Target,
        image: str,
        commit: str | None,
        source: Release | None,
        live: Release | None,
    ) -> Release:
        """Admit the image, pull it by digest, and record the pending release (a refusal is
        recorded by the admission, and nothing starts)."""
        colour = other_colour(live.colour if live else None)
        trusted = self._admission().release(
            environment,
            cfg,
            image,
            commit=commit,
            colour=colour,
            live=live,
            source_release=source.id if source else None,
        )
        self.say(f"admitted {trusted.reference}: {trusted.verification}")
        target.pull(trusted.reference, trusted.pull_auth)
        digest, label_sha = target.image_digest(trusted.reference)
        checkpoint(Step.IMAGE_VERIFIED, environment)
        if source is not None and digest != source.image_digest:
            raise DeployFailed(
                f"image {trusted.reference} on the {environment} engine is {digest[:19]}, but "
                f"{source.environment} runs {source.image_digest[:19]}: refusing to promote a "
                "different build",
            )
        return self.ledger.create_release(
            environment=environment,
            image=trusted.reference,
            image_digest=digest,
            git_sha=trusted.commit or label_sha,
            created_by=self.actor,
            colour=colour,
            source_release=source.id if source else None,
            sbom_digest=trusted.sbom_digest,
            dirty=trusted.dirty,
            verification=trusted.verification,
        )

    def promote(self, source: str, destination: str, *, wait: bool = False) -> Release:
        self.env(source)
        cfg = self.env(destination)
        live = self.ledger.live_release(source)
        if live is None:
            raise UsageError(f"nothing to promote: no release is live in {source}")
        if cfg.requires_approval:
            try:
                approvals.require_approval(
                    self.ledger, destination, live, cfg.approvals_needed, self.actor
                )
            except ApprovalPending:
                attempt = self.ledger.begin_attempt(
                    environment=destination,
                    release_id=live.id,
                    action=Action.promote,
                    actor=self.actor,
                )
                self.ledger.finish_attempt(
                    attempt,
                    status=AttemptState.awaiting_approval,
                    reason=f"from {source}, no approval yet",
                )
                raise
        return self.deploy(
            destination, live.image, wait=wait, source_release=live, commit=live.git_sha
        )

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
            chosen = retention.rollback_choice(self.ledger, environment, live, to)
            trusted = self._admission().rollback(environment, cfg, chosen, live)
            self.say(f"admitted {trusted.reference}: {trusted.verification}")
            target.pull(trusted.reference, trusted.pull_auth)
            checkpoint(Step.IMAGE_VERIFIED, environment)
            attempt = self.ledger.begin_attempt(
                environment=environment,
                release_id=chosen.id,
                action=Action.rollback,
                actor=self.actor,
                holder=self.holder,
            )
            checkpoint(Step.INTENT_RECORDED, environment)
            cause = reason or f"manual rollback from {live.id if live else 'nothing'}"
            timings: dict[str, float] = {}
            began = self.clock()
            try:
                switch_to_retained(self, environment, cfg, target, chosen, live, timings)
            except BaseException as exc:
                message = exc.message if isinstance(exc, ShiprailError) else repr(exc)
                self.ledger.finish_attempt(
                    attempt,
                    status=AttemptState.failed,
                    reason=message,
                    cause=cause,
                    timings=timings,
                )
                if isinstance(exc, ShiprailError | KeyboardInterrupt):
                    raise DeployFailed(f"rollback to {chosen.id} failed: {message}") from None
                raise
            timings["total"] = self.clock() - began
            self.ledger.set_release_status(chosen.id, ReleaseState.live)
            if live is not None:
                self.ledger.set_release_status(live.id, ReleaseState.rolled_back)
            self.ledger.finish_attempt(
                attempt, status=AttemptState.succeeded, cause=cause, timings=timings
            )
            checkpoint(Step.OUTCOME_RECORDED, environment)
        result = self.ledger.release(chosen.id)
        assert result is not None
        return result

    # -- read-only views ----------------------------------------------------------------
    def status(self, environment: str | None = None) -> list[views.EnvironmentStatus]:
        names = [environment] if environment else list(self.config.environments)
        return [
            views.environment_status(
                name,
                self.env(name),
                self.ledger,
                functools.partial(self.platform.target, name, self.env(name)),
                functools.partial(self.platform.bans, name, self.env(name))
                if self.platform.bans
                else None,
            )
            for name in names
        ]

    def history(self, environment: str, limit: int = 50) -> list[views.HistoryEntry]:
        self.env(environment)
        return views.history(self.ledger, environment, limit)

    def prune(self, older_than: timedelta) -> views.Pruned:
        """Remove containers and images of releases older than ``older_than`` that neither
        serve nor belong to the last ``keep_releases`` releases of any environment."""
        targets = {
            name: self.platform.target(name, cfg) for name, cfg in self.config.environments.items()
        }
        return retention.prune(
            self.config.environments, self.ledger, targets, utcnow() - older_than
        )
