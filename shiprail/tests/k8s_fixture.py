"""The local Kubernetes cluster as a test fixture, shared by every test package that needs one.

A conftest re-exports it (``from k8s_fixture import k8s_cluster``); whichever package asks
first brings the cluster up (``shiprail k8s cluster up``, the state directory shiprail uses
by default), later requests reuse it, and it is brought down at the end of the session only
when this session started it, so a developer's running cluster is left as it was. Without
root or the built components the tests skip on a laptop and fail under
``SHIPRAIL_REQUIRE_INTEGRATION=1`` (the shared ``unavailable``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from shiprail import _subprocess
from shiprail.errors import ShiprailError, ToolMissing
from shiprail.kubernetes.cluster import LocalCluster
from shiprail.kubernetes.cluster.layout import binaries_dir, require_binaries

from conftest import unavailable

#: Seconds a test waits for a pod, a rollout or a Service to answer.
WAIT_SECONDS = 120


@dataclass
class K8sCluster:
    """What a test gets: the admin kubeconfig, the state directory, and helpers."""

    cluster: LocalCluster

    @property
    def kubeconfig(self) -> Path:
        return self.cluster.kubeconfig

    @property
    def state(self) -> Path:
        """The shiprail state directory the cluster lives in (``<state>/k8s``)."""
        return self.cluster.state

    def import_image(self, reference: str) -> str:
        """Copy an image from the Docker Engine into the cluster; returns the name to use."""
        return self.cluster.import_image(reference)

    def kubectl(
        self, *args: str, input_text: str | None = None, ok_codes: tuple[int, ...] | None = (0,)
    ) -> _subprocess.Completed:
        return _subprocess.run(
            ["kubectl", f"--kubeconfig={self.kubeconfig}", *args],
            input_text=input_text,
            timeout=WAIT_SECONDS + 30,
            ok_codes=ok_codes,
        )


_session: dict[str, object] = {}


def _cluster() -> LocalCluster:
    if os.geteuid() != 0:
        unavailable("the local Kubernetes cluster needs root")
    try:
        require_binaries(binaries_dir())
    except ToolMissing as exc:
        unavailable(f"{exc.tool} is not built ({exc.install})")
    if _subprocess.which("kubectl") is None:
        unavailable("kubectl is not installed")
    from shiprail.deploy.settings import state_dir

    return LocalCluster(state_dir().resolve())


@pytest.fixture(scope="session")
def k8s_cluster() -> Iterator[K8sCluster]:
    """The running local cluster (brought up once per session)."""
    if "cluster" not in _session:
        cluster = _cluster()
        was_up = cluster.status().up
        started = time.monotonic()
        try:
            cluster.up()
        except ShiprailError as exc:
            unavailable(f"the local cluster did not come up: {exc}")
        _session.update(cluster=K8sCluster(cluster), owner=not was_up)
        _session["up_seconds"] = time.monotonic() - started
    handle = _session["cluster"]
    assert isinstance(handle, K8sCluster)
    yield handle
    if _session.pop("owner", False):
        handle.cluster.down()
