"""Fixtures of the fault matrix: a private Docker Engine, a private PostgreSQL cluster, a
small tmpfs for the state directory, and two environments deployed through the CLI (one on a
SQLite ledger, one on PostgreSQL).

The full matrix is marked ``faults`` and runs under ``make test-faults`` (which sets
``SHIPRAIL_FAULT_MATRIX=full``, or ``ci`` for the part CI runs); ``make test`` runs the
fixed subset that is not marked.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from deploy.test_docker_integration import _build, _workorders_image

from .daemon import PrivateDocker
from .postgres import PrivateCluster
from .world import FaultWorld
from conftest import require_tools, unavailable

#: Size of the tmpfs holding the state directory (ledger, edge CA, file_sd targets).
STATE_TMPFS = "32m"
VERSIONS = {"v1": "1.0.0-fault", "v2": "2.0.0-fault"}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "faults: the full fault matrix (make test-faults)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """``SHIPRAIL_FAULT_MATRIX=full``: every cell; ``ci``: every fault at the key steps (the
    part CI can afford); unset: only the fixed subset ``make test`` runs."""
    matrix = os.environ.get("SHIPRAIL_FAULT_MATRIX", "")
    if matrix == "full":
        return
    skip = pytest.mark.skip(reason="this cell runs under make test-faults (the full matrix)")
    for item in items:
        marker = item.get_closest_marker("faults")
        if marker is None:
            continue
        key_step = bool(marker.kwargs.get("key_step"))
        if matrix != "ci" or not key_step:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def fault_base() -> Iterator[Path]:
    """A short folder (unix socket paths are limited to 108 bytes)."""
    if os.geteuid() != 0:
        unavailable("the fault matrix needs root (a second dockerd, tmpfs, chattr)")
    require_tools("dockerd", "docker", "iptables", "chattr", "runuser")
    base = Path(tempfile.mkdtemp(prefix="srf-"))
    base.chmod(0o711)  # the PostgreSQL cluster below it runs as its own user
    yield base
    subprocess.run(["rm", "-rf", str(base)], check=False)


@pytest.fixture(scope="session")
def private_docker(fault_base: Path, docker_client: Any) -> Iterator[PrivateDocker]:
    daemon = PrivateDocker(fault_base / "docker")
    daemon.root.mkdir()
    daemon.start()
    try:
        yield daemon
    finally:
        daemon.close()


@pytest.fixture(scope="session")
def fault_images(private_docker: PrivateDocker, docker_client: Any) -> dict[str, str]:
    """v1 and v2 of the service on the private engine, built from the workorders image of
    the main engine (copied over with the edge's nginx image)."""
    from shiprail.deploy.routers.nginx import edge_image

    base = _workorders_image(docker_client)
    private_docker.load_images([base, edge_image(docker_client)])
    client = private_docker.client()
    return {
        key: _build(client, base, f"shiprail-faults/service:{key}", None, version)
        for key, version in VERSIONS.items()
    }


@contextlib.contextmanager
def _tmpfs(path: Path, size: str) -> Iterator[Path]:
    path.mkdir(parents=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(path)],
                   check=True)  # fmt: skip
    try:
        yield path
    finally:
        subprocess.run(["chattr", "-R", "-i", str(path)], capture_output=True)
        subprocess.run(["umount", "-l", str(path)], check=False)


def _world(base: Path, state: Path, daemon: PrivateDocker, images: dict[str, str],
           ledger_url: str) -> FaultWorld:  # fmt: skip
    world = FaultWorld(
        base=base, state=state, docker_host=daemon.host, ledger_url=ledger_url, images=images,
        versions={images[k]: v for k, v in VERSIONS.items()}, docker_client=daemon.client,
    )  # fmt: skip
    code, out = world.run(*world.deploy_args("v1"))
    assert code == 0, out
    world.write_marker()
    return world


@pytest.fixture(scope="session")
def sqlite_world(
    fault_base: Path, private_docker: PrivateDocker, fault_images: dict[str, str]
) -> Iterator[FaultWorld]:
    with _tmpfs(fault_base / "state", STATE_TMPFS) as state:
        (state / "ledger").mkdir()
        url = f"sqlite:///{state / 'ledger' / 'state.db'}"
        yield _world(fault_base / "sqlite", state, private_docker, fault_images, url)


@pytest.fixture(scope="session")
def private_cluster(fault_base: Path) -> Iterator[PrivateCluster]:
    cluster = PrivateCluster(fault_base / "pg")
    try:
        cluster.create()
    except (OSError, subprocess.CalledProcessError) as exc:
        unavailable(f"could not start a private PostgreSQL cluster: {exc}")
    try:
        yield cluster
    finally:
        cluster.close()


@pytest.fixture(scope="session")
def postgres_world(
    fault_base: Path,
    private_docker: PrivateDocker,
    fault_images: dict[str, str],
    private_cluster: PrivateCluster,
) -> FaultWorld:
    state = fault_base / "pg-state"
    state.mkdir()
    return _world(fault_base / "postgres", state, private_docker, fault_images, private_cluster.url)
