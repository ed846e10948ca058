"""``shiprail ledger check`` and ``shiprail edge repair``: the ledger against what runs.

The engine keeps the ledger and the machine in step while it holds an environment's lock,
but a host reboot, a ``docker kill`` or a person's ``docker start`` happen behind its back.
This module compares the two with fixed rules, one :class:`Finding` per disagreement, and
repairs them from the ledger (the ledger is the record of intent; what runs is brought back
to it, never the reverse):

1. the live release has no running replicas: resume its retained containers, route to them;
2. replicas of a release the ledger says ended (or does not know) run: stop them (a failed,
   refused or unknown release's are removed, a retired one's are kept for rollback);
3. the edge is gone, stopped, or does not route to the live release's replicas: rebuild it
   from the ledger;
4. an attempt is open while no live process holds the lock: close it as interrupted;
5. the lock is held by a dead process: release it.

An environment whose lock a live process holds is being changed: it is reported busy and
neither judged nor touched. Every repair runs under the environment's lock and goes through
the engine's own steps (``_recover``, ``_running``, ``_on_switch``) and the Target and Router
interfaces, so it does what a deploy would have done.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import httpx

from shiprail.deploy.records import LockInfo, Release
from shiprail.deploy.routers.interface import Router
from shiprail.deploy.settings import EnvironmentConfig
from shiprail.deploy.states import ReleaseState
from shiprail.deploy.strategies import STOP_GRACE_SECONDS, route_for
from shiprail.deploy.targets.interface import Instance, Target
from shiprail.errors import DeployFailed

if TYPE_CHECKING:
    from shiprail.deploy.engine import Engine
    from shiprail.deploy.routers.nginx import NginxRouter

#: Ended releases whose containers are kept (stopped) for an instant rollback.
KEPT = frozenset({ReleaseState.retired, ReleaseState.rolled_back})


@dataclass(frozen=True)
class EdgeState:
    """What the edge proxy serves: the releases its configuration routes to (two while a
    canary splits traffic) and the replica addresses it dials; ``running`` is False when its
    container is gone or stopped."""

    running: bool
    release_ids: tuple[str, ...] = ()
    upstreams: tuple[str, ...] = ()


@runtime_checkable
class ReadableEdge(Protocol):
    """A router that can say what its proxy serves right now."""

    def routed(self) -> EdgeState: ...


@dataclass(frozen=True)
class Finding:
    """One disagreement between the ledger and what runs, and the repair for it."""

    environment: str
    #: live-down | stray | edge | open-attempt | dead-lock
    kind: str
    what: str
    evidence: str
    repair: str
    #: the replicas to stop or remove (``stray`` only)
    instances: tuple[Instance, ...] = field(default=(), repr=False)
    remove: bool = False

    def line(self) -> str:
        return f"{self.environment}: {self.what} ({self.evidence}) -> {self.repair}"

    def as_json(self) -> dict[str, str]:
        keys = ("environment", "kind", "what", "evidence", "repair")
        return {key: getattr(self, key) for key in keys}


@dataclass(frozen=True)
class Report:
    """An environment's findings; ``busy`` names the live process changing it (not judged)."""

    environment: str
    findings: list[Finding]
    busy: str | None = None
    #: what ``--repair`` found and fixed (the findings are then what is left)
    repaired: list[Finding] = field(default_factory=list)

    def lines(self) -> list[str]:
        if self.busy:
            return [f"{self.environment}: not checked, {self.busy} (a change in progress)"]
        done = [f"{f.line()} [repaired]" for f in self.repaired]
        return done + [f.line() for f in self.findings]

    def as_json(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "busy": self.busy,
            "consistent": not self.findings,
            "repaired": [f.as_json() for f in self.repaired],
            "findings": [f.as_json() for f in self.findings],
        }


def edge_state(router: Router) -> EdgeState | None:
    """What the edge serves, or None when this kind of router cannot be read (Traefik: its
    file provider has no running state of its own to compare)."""
    if isinstance(router, ReadableEdge):
        return router.routed()
    from shiprail.deploy.routers.nginx import NginxRouter

    if isinstance(router, NginxRouter):
        return _nginx_state(router)
    return None


#: How long a repair waits for the edge to serve the live release again.
EDGE_SETTLE_SECONDS = 10.0

_RELEASE = re.compile(r"release (\S+) \(")
_SERVER = re.compile(r"^\s*server (\S+) max_fails", re.MULTILINE)


def _nginx_state(router: NginxRouter) -> EdgeState:
    """Read the site the proxy runs for this environment: its header comment names the
    release(s), its
    ``server`` lines the replica addresses."""
    from shiprail._docker import docker_errors, find_container
    from shiprail.deploy.routers.nginx import EDGE_USER
    from shiprail.deploy.routers.nginx_conf import CONF_DIR

    with docker_errors(f"could not read the edge proxy {router.name}"):
        container = find_container(router.client, router.name)
        if container is None or container.status != "running":
            return EdgeState(running=False)
        site = f"{CONF_DIR}/{router.site_file}"
        code, output = container.exec_run(["cat", site], user=EDGE_USER)
    text = (output if isinstance(output, bytes) else b"".join(output)).decode(errors="replace")
    if code != 0:
        return EdgeState(running=True)
    header = "\n".join(text.splitlines()[:2])
    return EdgeState(
        running=True,
        release_ids=tuple(_RELEASE.findall(header)),
        upstreams=tuple(_SERVER.findall(text)),
    )


# -- checks ------------------------------------------------------------------------------
def check(engine: Engine, environment: str) -> Report:
    """The disagreements of one environment, read without changing anything."""
    cfg = engine.env(environment)
    lock = engine.ledger.lock_info(environment)
    if lock is not None and not engine.ledger.lock_is_stale(environment):
        since = f"{lock.acquired_at:%Y-%m-%d %H:%M:%S} UTC"
        return Report(environment, [], busy=f"{lock.holder} holds its lock since {since}")
    target = engine.platform.target(environment, cfg)
    live = engine.ledger.live_release(environment)
    findings = _lock_findings(engine, environment, lock)
    if cfg.kubernetes is not None and live is None and not findings:
        return Report(environment, findings)  # nothing shipped there: the cluster is not asked
    findings += _replica_findings(engine, environment, target, live)
    if live is not None:
        running = [i for i in target.instances(environment, live.id) if i.running]
        router = engine.platform.router(environment, cfg, target)
        findings += _edge_findings(environment, edge_state(router), live, running)
    return Report(environment, findings)


def _lock_findings(engine: Engine, environment: str, lock: LockInfo | None) -> list[Finding]:
    """Rules 4 and 5: attempts nobody will close, and a lock nobody will release."""
    found = []
    gone = (
        "the lock is free" if lock is None else f"lock holder pid {lock.pid} on {lock.host} is gone"
    )
    for attempt in engine.ledger.open_attempts(environment):
        found.append(
            Finding(
                environment,
                "open-attempt",
                f"attempt {attempt.id} ({attempt.action} {attempt.release_id}) is open",
                gone,
                "close it as interrupted, fail its release, put the live release in front",
            )
        )
    if lock is not None:
        found.append(
            Finding(
                environment,
                "dead-lock",
                "the lock is held by a dead process",
                f"{lock.holder}, since {lock.acquired_at:%Y-%m-%d %H:%M:%S} UTC",
                "release it",
            )
        )
    return found


def _warm(engine: Engine, environment: str) -> set[str]:
    """The release ``previous: warm`` keeps running without traffic: the last one that was
    live before the live one (none when the environment stops its previous release)."""
    if engine.env(environment).previous != "warm":
        return set()
    ended = [r for r in engine.ledger.releases(environment) if r.status in KEPT and r.live_at]
    ended.sort(key=lambda r: r.live_at or r.created_at, reverse=True)
    return {ended[0].id} if ended else set()


def _replica_findings(
    engine: Engine, environment: str, target: Target, live: Release | None
) -> list[Finding]:
    """Rules 1 and 2: the live release must run, ended (or unknown) releases must not."""
    by_release: dict[str, list[Instance]] = defaultdict(list)
    for instance in target.instances(environment):
        by_release[instance.release_id].append(instance)
    found = []
    if live is not None and not any(i.running for i in by_release.get(live.id, [])):
        kept = len(by_release.get(live.id, []))
        found.append(
            Finding(
                environment,
                "live-down",
                f"live release {live.id} has no running replicas",
                f"{kept} retained container(s), all stopped" if kept else "no containers left",
                "resume its retained containers and put it back in front of the edge"
                if kept
                else "cannot repair: deploy or roll back to a release",
            )
        )
    open_releases = {a.release_id for a in engine.ledger.open_attempts(environment)}
    expected = {live.id} if live is not None else set()
    expected |= _warm(engine, environment)
    for release_id, instances in sorted(by_release.items()):
        running = tuple(i for i in instances if i.running)
        if not running or release_id in expected:
            continue
        if release_id in open_releases:
            continue  # the open attempt's repair removes them
        release = engine.ledger.release(release_id)
        state = release.status if release is not None else None
        if state in (ReleaseState.live, ReleaseState.pending):
            continue
        keep = state in KEPT
        found.append(
            Finding(
                environment,
                "stray",
                f"{len(running)} replica(s) of release {release_id} run",
                f"the ledger says {state}" if state else "the ledger has no such release",
                "stop them (kept for rollback)" if keep else "stop and remove them",
                instances=running,
                remove=not keep,
            )
        )
    return found


def _edge_findings(
    environment: str, edge: EdgeState | None, live: Release, running: list[Instance]
) -> list[Finding]:
    """Rule 3: the edge runs and sends all traffic to the live release's running replicas."""
    if edge is None:
        return []
    repair = f"rebuild the edge from the ledger (all traffic to {live.id})"
    if not edge.running:
        what, evidence = "the edge proxy does not run", "its container is missing or stopped"
    elif edge.release_ids != (live.id,):
        routed = ", ".join(edge.release_ids) or "nothing"
        what = f"the edge does not route to the live release {live.id}"
        evidence = f"it routes to {routed}"
    elif running and set(edge.upstreams) != {i.upstream for i in running}:
        what = f"the edge routes to addresses that are not {live.id}'s running replicas"
        evidence = f"{', '.join(edge.upstreams) or 'none'} vs {len(running)} running"
    else:
        return []
    return [Finding(environment, "edge", what, evidence, repair)]


# -- repairs -----------------------------------------------------------------------------
def repair(engine: Engine, environment: str) -> Report:
    """Fix what :func:`check` finds, under the environment's lock (a dead process's lock is
    taken over, then released), and check again: the report lists what is left."""
    restarted = _await_live(engine, environment)
    first = check(engine, environment)
    if first.busy:
        return first
    if not (first.findings or restarted):
        _await_edge(engine, environment)
        return first
    cfg = engine.env(environment)
    target = engine.platform.target(environment, cfg)
    kinds = {f.kind for f in first.findings} | ({"live-down"} if restarted else set())
    with engine.ledger.lock(environment, engine.holder):
        if "open-attempt" in kinds:  # closes them, then puts the live release in front
            engine._recover(environment, cfg, target)
        elif kinds & {"live-down", "edge"}:
            _front(engine, environment, cfg, target)
        for finding in first.findings:
            if finding.kind == "stray":
                _stop(target, finding)
    _await_edge(engine, environment)
    after = check(engine, environment)
    left = {f.line() for f in after.findings}
    fixed = [f for f in first.findings if f.line() not in left]
    return Report(environment, after.findings, after.busy, fixed)


def _await_live(engine: Engine, environment: str) -> bool:
    """Wait (up to the health timeout) until the live release's running replicas answer
    their health check; True when some did not at first. After an engine restart the
    containers are running again before they serve: a repair that judged them then would
    report agreement while the edge still answers 502, and an edge that came back first has
    marked them failed, so they are routed to afresh."""
    cfg = engine.env(environment)
    live = engine.ledger.live_release(environment)
    busy = engine.ledger.lock_info(environment) and not engine.ledger.lock_is_stale(environment)
    if live is None or busy:
        return False
    target = engine.platform.target(environment, cfg)
    running = [i for i in target.instances(environment, live.id) if i.running]
    if not running:
        return False
    try:
        target.wait_healthy(running, 0)
        return False
    except DeployFailed:
        pass
    with contextlib.suppress(DeployFailed):
        target.wait_healthy(running, cfg.health.timeout_seconds)
    return True


def _await_edge(engine: Engine, environment: str) -> None:
    """Wait (at most ``EDGE_SETTLE_SECONDS``) until the edge answers the health path with
    anything but a gateway error. An edge that came back before the replicas marked them
    failed (``fail_timeout``); the repair is done only once users are served again."""
    cfg = engine.env(environment)
    edge = engine.platform.edge_client
    if edge is None or cfg.kubernetes is not None or not engine.ledger.live_release(environment):
        return
    deadline = time.monotonic() + EDGE_SETTLE_SECONDS
    with edge(environment, cfg) as http:
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if http.get(cfg.health.path).status_code not in (502, 503, 504):
                    return
            time.sleep(0.2)


def _stop(target: Target, finding: Finding) -> None:
    instances = list(finding.instances)
    target.stop(instances, STOP_GRACE_SECONDS)
    if finding.remove:
        target.remove(instances)


def _front(
    engine: Engine, environment: str, cfg: EnvironmentConfig, target: Target
) -> list[Instance]:
    """Resume the live release's stopped replicas (waiting until healthy) and route all
    traffic to them, as the engine does after an interrupted run; [] when nothing is live
    or none of its containers are left."""
    replicas = engine._running(target, environment, engine.ledger.live_release(environment))
    if replicas:
        router = engine.platform.router(environment, cfg, target)
        router.switch(route_for(environment, cfg.edge.hostname, replicas, cfg.container_port))
        engine._on_switch(environment)(replicas)
    return replicas


def repair_edge(engine: Engine, environment: str) -> list[Instance]:
    """``shiprail edge repair``: rebuild the edge from the ledger without a deploy (the
    router starts the proxy again when it is gone). Raises when there is nothing to route."""
    cfg = engine.env(environment)
    target = engine.platform.target(environment, cfg)
    with engine.ledger.lock(environment, engine.holder):
        live = engine.ledger.live_release(environment)
        replicas = _front(engine, environment, cfg, target)
    if not replicas:
        what = f"{live.id} has no containers left" if live else "no release is live"
        raise DeployFailed(f"nothing to route to in {environment}: {what}")
    return replicas
