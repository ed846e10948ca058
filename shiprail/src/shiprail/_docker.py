"""The one Docker boundary: the client (local socket, DOCKER_HOST or ``ssh://``), the lookups
that may find nothing, and the mapping of the SDK's exceptions to the shiprail error tree.

Every other module talks to Docker Engine through a :data:`DockerClient` from
:func:`docker_client` and wraps its calls in :func:`docker_errors`, so no SDK exception
reaches the CLI as a traceback, in the way httpx maps its transport's exceptions at one
place. The ``docker`` package is imported only when a client is made or an error is mapped:
it costs a quarter of a second, which commands that never touch Docker should not pay.
For the same reason the types callers annotate with (``DockerClient``, ``Container``,
``Image``, ``Network``: the SDK's own classes, typed by ``types-docker``) are imported from
here under ``TYPE_CHECKING``.

    docker.errors.BuildError            -> ``error``: "<action>: <reason>; last output: ..."
    docker.errors.DockerException       -> ``error``: "<action>: <engine's message>"
      (APIError, NotFound, ImageNotFound, ...)
    requests ConnectionError, Timeout   -> ``error``: "<action>: Docker Engine unreachable: ..."
    any of them while creating a client -> ToolMissing (with how to install and start it)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from shiprail.errors import ShiprailError, ToolCrashed, ToolMissing
from shiprail.settings import get_settings

if TYPE_CHECKING:
    from docker import DockerClient
    from docker.errors import BuildError
    from docker.models.containers import Container
    from docker.models.images import Image
    from docker.models.networks import Network
    from docker.models.volumes import Volume

#: Seconds a Docker API call may take before it is abandoned (builds pass their own).
DOCKER_TIMEOUT_SECONDS = 120
DOCKER_INSTALL_HINT = "apt-get install -y docker.io && scripts/services.sh start"
#: Engine calls one operation makes at once (the Docker SDK's connection pool holds 10).
MAX_PARALLEL_CALLS = 8
T = TypeVar("T")
R = TypeVar("R")
#: Lines of a failed build's output quoted in the error.
BUILD_LOG_TAIL = 5
#: The restart policy of long-running containers. Typed ``Any`` because the SDK's type stubs
#: know only "always" and "on-failure", while the engine takes "unless-stopped" too.
RESTART_UNLESS_STOPPED: Any = {"Name": "unless-stopped"}


def any_port(host: str) -> Any:
    """A port binding on ``host`` whose port the engine picks (the stubs require a port)."""
    return (host, None)


def docker_client(base_url: str | None = None) -> DockerClient:
    """A client for the local engine (or ``base_url``, e.g. ``ssh://deploy@host``), pinged.

    An engine that does not answer is a missing tool (exit 3), whatever the SDK raised.
    """
    import docker
    from docker.errors import DockerException
    from requests.exceptions import ConnectionError, Timeout

    url = base_url or get_settings().docker_host
    try:
        client = (
            docker.DockerClient(
                base_url=url,
                timeout=DOCKER_TIMEOUT_SECONDS,
                # The system ssh client honours ~/.ssh/config, keys and known_hosts.
                use_ssh_client=url.startswith("ssh://"),
            )
            if url
            else docker.from_env(timeout=DOCKER_TIMEOUT_SECONDS)
        )
        client.ping()
    except (DockerException, ConnectionError, Timeout) as exc:
        raise ToolMissing(
            f"Docker Engine ({url or 'local socket'}: {exc})", DOCKER_INSTALL_HINT
        ) from exc
    return client


def _build_failure(exc: BuildError) -> str:
    """The build's reason and the last lines it printed (the SDK keeps them on the error)."""
    tail = [str(line.get("stream", line.get("error", ""))).strip() for line in exc.build_log]
    lines = " / ".join(line for line in tail[-BUILD_LOG_TAIL:] if line)
    return f"{exc.msg}; last output: {lines}"


@contextmanager
def docker_errors(action: str, error: type[ShiprailError] = ToolCrashed) -> Iterator[None]:
    """Translate the SDK's exceptions raised inside the block into ``error`` (``from exc``).

    ``action`` starts the message ("could not stop shiprail-dev-r1-1"); ``error`` is the class
    the caller's contract names (``DeployFailed`` while starting a release, ``ToolCrashed``
    elsewhere). shiprail's own exceptions pass through untouched.
    """
    from docker.errors import BuildError, DockerException
    from requests.exceptions import ConnectionError, Timeout

    try:
        yield
    except BuildError as exc:
        raise error(f"{action}: {_build_failure(exc)}") from exc
    except DockerException as exc:
        raise error(f"{action}: {exc}") from exc
    except (ConnectionError, Timeout) as exc:
        raise error(f"{action}: Docker Engine unreachable: {exc}") from exc


def find_image(client: DockerClient, reference: str) -> Image | None:
    """The image, or None when the engine does not have it (other errors propagate)."""
    from docker.errors import ImageNotFound

    try:
        return client.images.get(reference)
    except ImageNotFound:
        return None


def find_container(client: DockerClient, name: str) -> Container | None:
    """The container, or None when there is none of that name (other errors propagate)."""
    from docker.errors import NotFound

    try:
        return client.containers.get(name)
    except NotFound:
        return None


def find_network(client: DockerClient, name: str) -> Network | None:
    """The network, or None when there is none of that name (other errors propagate)."""
    from docker.errors import NotFound

    try:
        return client.networks.get(name)
    except NotFound:
        return None


def find_volume(client: DockerClient, name: str) -> Volume | None:
    """The volume, or None when there is none of that name (other errors propagate)."""
    from docker.errors import NotFound

    try:
        return client.volumes.get(name)
    except NotFound:
        return None


def at_once(action: Callable[[T], R], items: list[T]) -> list[R]:
    """``action`` on every item at the same time, results in the order of ``items``.

    Starting or stopping a replica is mostly waiting for the engine (namespaces, networks,
    the process's own start or shutdown), so the replicas of a release wait together rather
    than one after the other. Every call finishes before the first error is raised, so no
    container is left half-handled behind the caller's back.
    """
    if len(items) <= 1:
        return [action(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(len(items), MAX_PARALLEL_CALLS)) as pool:
        futures = [pool.submit(action, item) for item in items]
    return [future.result() for future in futures]
