"""The seam between the release engine and the machine that runs containers.

The engine never talks to Docker directly: it asks a :class:`Target` to start, probe, stop
and remove the replicas of one release, so the whole blue/green logic is tested with a fake
target passed in (``tests/deploy/fakes.py``) and runs for real on ``docker.py``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field

from shiprail.naming import DEFAULT_SERVICE


@dataclass(frozen=True)
class ReleaseSpec:
    """Everything needed to run one release's replicas, already resolved from the config."""

    environment: str
    release_id: str
    colour: str
    image: str
    replicas: int
    cpus: float
    memory_bytes: int
    network: str
    container_port: int = 8000
    health_path: str = "/ready"
    health_interval_seconds: float = 1.0
    env: Mapping[str, str] = field(default_factory=dict)
    #: name -> content; mounted read-only under /run/secrets, never logged or stored.
    secrets: Mapping[str, bytes] = field(default_factory=dict, repr=False)
    #: one-off command run to completion before the replicas start (database migrations).
    pre_start_command: tuple[str, ...] | None = None
    #: ``service.name``: with the environment, it names everything the target creates.
    service: str = DEFAULT_SERVICE


@dataclass(frozen=True)
class Instance:
    """One replica: ``upstream`` is what the edge proxy dials, ``url`` what shiprail probes."""

    name: str
    environment: str
    release_id: str
    colour: str
    upstream: str
    url: str
    running: bool = True
    image: str = ""

    @property
    def address(self) -> str:
        """``host:port`` of ``url`` (what Prometheus scrapes)."""
        return self.url.split("://", 1)[-1].rstrip("/")


class Target(ABC):
    """A container host: the local Docker Engine, a remote one over SSH, or a fake."""

    @abstractmethod
    def image_digest(self, image: str) -> tuple[str, str]:
        """(content digest, git sha label) of an image present on the target; raise
        UsageError when the image does not exist there."""

    @abstractmethod
    def pull(self, reference: str, auth: dict[str, str] | None) -> None:
        """Make sure the image is on the target engine: pull ``reference`` (by digest) from
        its registry when the engine does not have it yet."""

    @abstractmethod
    def start(self, spec: ReleaseSpec) -> list[Instance]:
        """Create and start ``spec.replicas`` hardened containers; return them at once."""

    @abstractmethod
    def wait_healthy(self, instances: list[Instance], timeout: float) -> list[Instance]:
        """Block until every instance's health check passes; raise DeployFailed with the
        reason (exited, unhealthy, timed out) otherwise. Returns refreshed instances."""

    @abstractmethod
    def instances(self, environment: str, release_id: str | None = None) -> list[Instance]:
        """The environment's release containers (running or stopped), optionally one release."""

    @abstractmethod
    def resume(self, environment: str, release_id: str) -> list[Instance]:
        """Start the retained (stopped) containers of a release; [] when none are left."""

    @abstractmethod
    def stop(self, instances: list[Instance], grace_seconds: float = 10.0) -> None:
        """Stop without removing (kept for instant rollback)."""

    @abstractmethod
    def remove(self, instances: list[Instance]) -> None:
        """Remove the containers (and what belongs only to them)."""

    @abstractmethod
    def remove_image(self, image: str) -> bool:
        """Remove an image unless a container still uses it; True when removed."""

    @abstractmethod
    def logs_tail(self, instance: Instance, lines: int = 20) -> str:
        """The last lines of a replica's output, for failure reasons."""
