"""Publishing the console through the nginx edge (``console.edge`` in shiprail.yaml).

The edge runs in a container and the console is a process on the host, so the proxy cannot
reach the console on loopback. The console gets a bridge network of its own
(``shiprail-console``): it listens on that network's gateway address (the host's side of the
bridge), and the edge joins the network and routes the console's hostname there, in a site
file of its own beside the environments' sites. TLS ends at the edge; between the edge and
the console the traffic stays on the host. Only the edge's network may set the
``X-Forwarded-*`` headers the console trusts (the client address of lock-outs and the audit).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from shiprail._docker import docker_errors, find_container, find_network
from shiprail.console.app import CSP
from shiprail.deploy.routers.interface import Route
from shiprail.deploy.routers.nginx import NginxRouter
from shiprail.deploy.settings import EdgeConfig
from shiprail.deploy.targets.docker import LABEL_ENV, LABEL_ROLE
from shiprail.deploy.tls import tls_material
from shiprail.errors import ToolCrashed

if TYPE_CHECKING:
    from shiprail._docker import DockerClient

#: The console's own network; the edge joins it, the console listens on its gateway.
NETWORK = "shiprail-console"
#: The site is ``shiprail-console`` (``<service>-<environment>`` of the edge's naming).
SITE_SERVICE = "shiprail"
SITE_NAME = "console"


@dataclass(frozen=True)
class Published:
    """Where the console listens (the gateway) and the edge site that sends traffic there."""

    host: str
    port: int
    #: the network's subnet: the only addresses whose forwarded headers are believed
    subnet: str
    router: NginxRouter

    @property
    def url(self) -> str:
        return self.router.url()

    def withdraw(self) -> None:
        """Take the console's site off the edge (the other sites keep serving) and the edge
        off the console's network."""
        self.router.remove()
        client = self.router.client
        with suppress(ToolCrashed), docker_errors(f"could not leave {self.router.network}"):
            proxy = find_container(client, self.router.name)
            network = find_network(client, self.router.network)
            if proxy is not None and network is not None:
                network.disconnect(proxy, force=True)


def gateway(client: DockerClient, network: str = NETWORK) -> tuple[str, str]:
    """The network's gateway address and subnet; the network is created when missing."""
    with docker_errors(f"could not prepare the network {network}"):
        found = find_network(client, network)
        if found is None:
            found = client.networks.create(
                network, driver="bridge", labels={LABEL_ENV: SITE_NAME, LABEL_ROLE: "network"}
            )
        found.reload()
        configs = (found.attrs.get("IPAM") or {}).get("Config") or []
    for config in configs:
        subnet, address = config.get("Subnet"), config.get("Gateway")
        if subnet and address and ipaddress.ip_network(subnet).version == 4:
            return str(address), str(subnet)
    raise ToolCrashed(f"the network {network} has no IPv4 gateway: remove it and start again")


def publish(
    client: DockerClient,
    edge: EdgeConfig,
    port: int,
    state: Path,
    *,
    network: str = NETWORK,
    image: Callable[[], str] | None = None,
) -> Published:
    """Write the console's site on the edge of ``edge.port`` (starting the edge if no site
    uses that port yet): ``edge.hostname`` goes to the gateway of ``network`` on ``port``."""
    host, subnet = gateway(client, network)
    router = NginxRouter(
        client,
        environment=SITE_NAME,
        edge=edge,
        network=network,
        tls=tls_material(edge.tls, state, SITE_NAME, edge.hostname),
        image=image,
        service=SITE_SERVICE,
        csp=CSP,
    )
    route = Route(
        environment=SITE_NAME,
        hostname=edge.hostname,
        release_id=SITE_NAME,
        colour="host",
        upstreams=(f"{host}:{port}",),
        port=port,
    )
    router.switch(route)
    return Published(host, port, subnet, router)
