"""The names of everything shiprail creates for one service's environment.

Two checkouts (two services, or the same service twice under different names) can both have
a ``dev`` environment on the same Docker Engine. Every container, volume, network, edge
site and file_sd file is therefore named after the pair (service, environment), and every
container and volume carries the ``io.shiprail.service`` label, so one service's deploy,
rollback or prune never sees, replaces or removes the other's. The service name is
``service.name`` in shiprail.yaml.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: A service name becomes part of container, volume and network names and of nginx
#: identifiers: lower-case letters, digits and dashes, starting with a letter.
SERVICE_NAME = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
SERVICE_NAME_HINT = "lower-case letters, digits and '-', starting with a letter, at most 40"
#: ``service.name`` when shiprail.yaml does not set it.
DEFAULT_SERVICE = "workorders"


@dataclass(frozen=True)
class Scope:
    """One service's environment: the unit every name below belongs to."""

    service: str
    environment: str

    @property
    def prefix(self) -> str:
        return f"shiprail-{self.service}-{self.environment}"

    @property
    def site(self) -> str:
        """The edge site's name: a file name and, with ``_`` for ``-``, an nginx identifier."""
        return f"{self.service}-{self.environment}"

    def container(self, release_id: str, index: int) -> str:
        return f"{self.prefix}-{release_id}-{index}"

    def prestart(self, release_id: str) -> str:
        return f"{self.prefix}-{release_id}-prestart"

    def secrets_volume(self, release_id: str) -> str:
        return f"{self.prefix}-{release_id}-secrets"

    @property
    def data_volume(self) -> str:
        return f"{self.prefix}-data"

    @property
    def legacy_data_volume(self) -> str:
        """The data volume's name before names carried the service (adopted once)."""
        return f"shiprail-{self.environment}-data"

    @property
    def network(self) -> str:
        """The private network of the environment's replicas (``network:`` overrides it)."""
        return self.prefix

    @property
    def targets_file(self) -> str:
        """The Prometheus file_sd file of the environment's replicas."""
        return f"{self.site}.json"
