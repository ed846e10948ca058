"""Two services with an environment of the same name on one Docker Engine, behind one edge.

Everything shiprail creates is named after the pair (service, environment), so deploying,
rolling back and pruning one service leaves the other's containers, volumes, network, edge
site and monitoring targets exactly as they were, and the one edge routes each hostname to
its own service.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from .test_docker_integration import Env

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory, docker_client: Any) -> Iterator[tuple[Env, Env]]:
    name = f"dev-two{secrets.token_hex(3)}"
    alpha = Env(
        tmp_path_factory.mktemp("alpha"), docker_client, service="alpha", name=name,
        images=("v1", "v2"), health_seconds=60,
    )  # fmt: skip
    beta = Env(
        tmp_path_factory.mktemp("beta"), docker_client, service="beta", name=name,
        port=alpha.port, images=("v1", "v3"), health_seconds=60,
    )  # fmt: skip
    try:
        yield alpha, beta
    finally:
        beta.cleanup()
        alpha.cleanup()


def _resources(env: Env) -> dict[str, Any]:
    """What the engine holds for one service: containers (name → id, status), volumes,
    networks, all found by the service's label."""
    labels = {"label": [f"io.shiprail.service={env.service}"]}
    containers = env.client.containers.list(all=True, filters=labels)
    return {
        "containers": {c.name: (c.id, c.status) for c in containers},
        "volumes": sorted(v.name for v in env.client.volumes.list(filters=labels)),
        "networks": sorted(n.name for n in env.client.networks.list(filters=labels)),
    }


def test_two_services_side_by_side_one_rolled_back_and_pruned(pair: tuple[Env, Env]) -> None:
    alpha, beta = pair
    assert alpha.name == beta.name and alpha.port == beta.port
    alpha.engine().deploy(alpha.name, alpha.images["v1"])
    beta_release = beta.engine().deploy(beta.name, beta.images["v3"])
    # One edge for the port, routing each hostname to its own service.
    assert alpha.served_version() == "1.0.0-it"
    assert beta.served_version() == "3.0.0-it"
    assert beta.edge.id == alpha.edge.id
    before = _resources(beta)
    assert before["containers"] and before["volumes"] and before["networks"]
    assert all(name.startswith(f"shiprail-beta-{beta.name}-") for name in before["containers"])
    assert not set(before["containers"]) & set(_resources(alpha)["containers"])
    beta_targets = (beta.state / "targets" / f"beta-{beta.name}.json").read_text()

    # alpha: two more releases, a rollback to the second, then a prune.
    second = alpha.engine().deploy(alpha.name, alpha.images["v2"])
    assert alpha.served_version() == "2.0.0-it"
    assert beta.served_version() == "3.0.0-it"
    alpha.engine().deploy(alpha.name, alpha.images["v1"])
    back = alpha.engine().rollback(alpha.name, reason="two services test")
    assert back.id == second.id
    assert alpha.served_version() == "2.0.0-it"
    pruned = alpha.engine().prune(older_than=timedelta(0))
    assert not [name for name in pruned.containers if not name.startswith("shiprail-alpha-")]
    assert beta.client.images.get(beta.images["v3"]) is not None

    # beta: same containers (same ids, still running), volumes, network, edge site, targets.
    assert _resources(beta) == before
    assert beta.served_version() == "3.0.0-it"
    status = beta.engine().status(beta.name)[0]
    assert status.release is not None and status.release.id == beta_release.id
    assert (beta.state / "targets" / f"beta-{beta.name}.json").read_text() == beta_targets
    groups = json.loads(beta_targets)
    assert groups[0]["labels"]["service"] == "beta"
    # the alpha site is still served too: the edge kept both sites through alpha's changes
    assert alpha.served_version() == "2.0.0-it"


def test_one_hostname_cannot_be_claimed_by_two_services(
    pair: tuple[Env, Env], tmp_path: Path, docker_client: Any
) -> None:
    alpha, _ = pair
    gamma = Env(tmp_path, docker_client, service="gamma", name=alpha.name, port=alpha.port,
                images=("v1",), health_seconds=60)  # fmt: skip
    gamma.hostname = alpha.hostname
    cfg = gamma.config.environments[gamma.name]
    gamma.config.environments[gamma.name] = cfg.model_copy(
        update={"edge": cfg.edge.model_copy(update={"hostname": alpha.hostname})}
    )
    try:
        with pytest.raises(Exception, match="already served by alpha-"):
            gamma.engine().deploy(gamma.name, gamma.images["v1"])
        assert alpha.served_version() == "2.0.0-it"
    finally:
        gamma.cleanup(edge=False)
