"""The service image, built with the real Docker Engine and run the hardened way.

Building goes through ``shiprail.image`` (``shiprail build image``): a debootstrap-made base
when no registry answers, a host wheelhouse, no network inside the build. The container then
runs read-only, as a non-root user, with every capability dropped, on a loopback port.
"""

from __future__ import annotations

import hashlib
import time
import uuid

import httpx
import pytest

from shiprail.image.base import BASE_REPOSITORY, recipe_for, runtime_recipe
from shiprail.image.build import BUILD_STAGE_PACKAGES, DIRTY_LABEL, BuiltImage, build_image

from conftest import wait_until

pytestmark = pytest.mark.docker

TOKEN = "container-test-token-" + uuid.uuid4().hex
TOKEN_HASH = hashlib.sha256(TOKEN.encode()).hexdigest()


@pytest.fixture(scope="module")
def built(docker_client) -> BuiltImage:
    """The image of the working tree as it is: tests run on uncommitted work too, so the
    build allows a dirty tree (and the image then says so in its label)."""
    return build_image(docker_client, offline=True, allow_dirty=True)


def run_hardened(client, reference: str, environment: dict[str, str], command=None):
    return client.containers.run(
        reference,
        command=command,
        name=f"shiprail-test-{uuid.uuid4().hex[:10]}",
        detach=True,
        read_only=True,
        tmpfs={"/tmp": "rw,noexec,nosuid,size=16m", "/data": "rw,uid=10001,gid=10001,size=16m"},
        cap_drop=["ALL"],
        security_opt=["no-new-privileges"],
        mem_limit="256m",
        ports={"8000/tcp": ("127.0.0.1", None)},
        environment=environment,
    )


def wait_for(url: str, timeout: float = 30.0) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def test_base_image_comes_from_debian_packages(docker_client, built):
    """The image runs on the slim runtime base; its build stages ran on the shared base."""
    assert built.base == runtime_recipe().tag
    assert built.build_base == recipe_for(BUILD_STAGE_PACKAGES).tag
    assert built.base.startswith(BASE_REPOSITORY)
    base = docker_client.images.get(built.base)
    assert base.attrs["Os"] == "linux"
    image = docker_client.images.get(built.reference)
    assert image.attrs["RootFS"]["Layers"][0] == base.attrs["RootFS"]["Layers"][0]
    labels = image.attrs["Config"]["Labels"]
    assert labels["org.opencontainers.image.base.name"] == built.base
    assert labels["org.opencontainers.image.base.digest"] == base.id


def test_image_metadata(docker_client, built):
    attrs = docker_client.images.get(built.reference).attrs
    config = attrs["Config"]
    assert config["User"] == "10001:10001"
    assert config["Healthcheck"]["Test"][0] == "CMD"
    assert "8000/tcp" in config["ExposedPorts"]
    labels = config["Labels"]
    assert labels["org.opencontainers.image.version"] == built.version
    assert labels["org.opencontainers.image.revision"] == built.git_sha
    assert labels[DIRTY_LABEL] == ("true" if built.dirty else "false")  # always present
    suffix = "-dirty" if built.dirty else ""  # a dirty build never takes the clean tag
    assert built.reference == f"workorders:{built.version}-{built.git_sha}{suffix}"


def test_container_serves_read_only_as_non_root(docker_client, built):
    container = run_hardened(
        docker_client,
        built.reference,
        {"WORKORDERS_ENV": "prod", "WORKORDERS_API_TOKEN_HASHES": TOKEN_HASH},
        ["serve", "--host", "0.0.0.0", "--port", "8000", "--migrate"],
    )
    try:
        container.reload()
        port = container.ports["8000/tcp"][0]["HostPort"]
        assert container.ports["8000/tcp"][0]["HostIp"] == "127.0.0.1"
        base = f"http://127.0.0.1:{port}"
        assert wait_for(f"{base}/health").json() == {"status": "ok"}
        assert httpx.get(f"{base}/ready").status_code == 200
        version = httpx.get(f"{base}/version").json()
        assert version["git_sha"] == built.git_sha
        assert version["env"] == "prod"

        body = {"property_ref": "C-1", "category": "appliance", "title": "Fridge warm"}
        denied = httpx.post(f"{base}/api/v1/workorders", json=body)
        assert denied.status_code == 401
        created = httpx.post(
            f"{base}/api/v1/workorders", json=body, headers={"Authorization": f"Bearer {TOKEN}"}
        )
        assert created.status_code == 201, created.text
        read = httpx.get(f"{base}/api/v1/workorders/{created.json()['id']}")
        assert read.status_code == 200
        assert read.json()["title"] == "Fridge warm"

        uid = container.exec_run(["id", "-u"]).output.decode().strip()
        assert uid == "10001"
        write = container.exec_run(["touch", "/opt/workorders/owned"])
        assert write.exit_code != 0
        assert container.attrs["HostConfig"]["ReadonlyRootfs"] is True

        def healthy() -> bool:
            container.reload()
            return bool(container.attrs["State"]["Health"]["Status"] == "healthy")

        wait_until(healthy, 60, what="the image's health check reports healthy", interval=1)
    finally:
        container.remove(force=True)


def test_container_refuses_to_start_in_prod_without_secrets(docker_client, built):
    container = run_hardened(docker_client, built.reference, {"WORKORDERS_ENV": "prod"})
    try:
        result = container.wait(timeout=60)
        logs = container.logs().decode()
        assert result["StatusCode"] == 2
        assert "refusing to start in prod" in logs
        assert "Traceback" not in logs
    finally:
        container.remove(force=True)
