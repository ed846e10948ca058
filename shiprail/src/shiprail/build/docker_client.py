"""The one place a Docker Engine client is created; connection failures become ToolMissing."""

from __future__ import annotations

import os
from typing import Any

from shiprail.errors import ToolMissing

#: Seconds a Docker API call may take before it is abandoned (builds pass their own).
DOCKER_TIMEOUT_SECONDS = 120
DOCKER_INSTALL_HINT = "apt-get install -y docker.io && scripts/services.sh start"


def docker_client(base_url: str | None = None) -> Any:
    """A client for the local engine (or ``base_url``, e.g. ``ssh://deploy@host``)."""
    import docker
    from docker.errors import DockerException

    url = base_url or os.environ.get("DOCKER_HOST")
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
    except DockerException as exc:
        raise ToolMissing(
            f"Docker Engine ({url or 'local socket'}: {exc})", DOCKER_INSTALL_HINT
        ) from exc
    return client
