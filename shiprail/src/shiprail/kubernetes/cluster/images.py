"""Images inside the cluster's containerd: the local pause image, and images from Docker.

No registry can be pulled from here, so the pod sandbox image is made locally: the static
``pause`` binary scripts/install-tools.sh builds (it waits for SIGINT/SIGTERM, all a sandbox
does) wrapped in a one-layer image archive in Docker's ``save`` format, imported with
``ctr -n k8s.io images import``. Service images come from the Docker Engine the same way
(``docker save`` then ``ctr import``), under the reference they were asked for by: a tag
(``workorders:1.2.3``) or a registry digest (``127.0.0.1:5000/workorders@sha256:…``, the
image pulled through the Docker Engine from the local registry first), so a pod spec naming
that reference with ``imagePullPolicy: IfNotPresent`` finds it without a registry. The
archive Docker writes has another manifest digest than the registry's; containerd keeps the
name as given, and the layers and config (what runs) are the same. The kubelet's
image garbage collection is off (configs.py): an imported image could not be pulled again.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import tempfile
from pathlib import Path

from shiprail import _subprocess
from shiprail.errors import UsageError
from shiprail.kubernetes.cluster.layout import CONTAINERD_NAMESPACE, PAUSE_IMAGE, Layout

IMPORT_TIMEOUT_SECONDS = 600.0
CTR_HINT = "apt-get install -y containerd"
DOCKER_HINT = "apt-get install -y docker.io (and start dockerd)"
#: The user the pause process runs as: not root, like upstream's pause image.
PAUSE_USER = "65535:65535"


def ctr(layout: Layout, *args: str, timeout: float = 60.0) -> _subprocess.Completed:
    """``ctr`` against the cluster's own containerd, in the Kubernetes namespace."""
    return _subprocess.run(
        ["ctr", "--address", str(layout.containerd_socket), "-n", CONTAINERD_NAMESPACE, *args],
        timeout=timeout,
        install_hint=CTR_HINT,
    )


def image_names(layout: Layout) -> set[str]:
    return set(ctr(layout, "images", "ls", "-q").stdout.split())


def _add(archive: tarfile.TarFile, name: str, data: bytes, mode: int = 0o644) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), mode, 0
    archive.addfile(info, io.BytesIO(data))


def pause_archive(binary: Path, name: str = PAUSE_IMAGE) -> bytes:
    """A ``docker save``-format archive of one layer holding ``/pause``, reproducible (fixed
    mtimes), so re-imports of the same binary give the same image ID."""
    layer_buffer = io.BytesIO()
    with tarfile.open(fileobj=layer_buffer, mode="w", format=tarfile.GNU_FORMAT) as layer:
        _add(layer, "pause", binary.read_bytes(), 0o755)
    layer_bytes = layer_buffer.getvalue()
    diff_id = "sha256:" + hashlib.sha256(layer_bytes).hexdigest()
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Entrypoint": ["/pause"], "User": PAUSE_USER},
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        },
        sort_keys=True,
    ).encode()
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    manifest = [{"Config": config_name, "RepoTags": [name], "Layers": ["layer/layer.tar"]}]
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.GNU_FORMAT) as archive:
        _add(archive, "layer/layer.tar", layer_bytes)
        _add(archive, config_name, config)
        _add(archive, "manifest.json", json.dumps(manifest).encode())
    return out.getvalue()


def ensure_pause_image(layout: Layout, binary: Path) -> None:
    """Import the pause image unless containerd already has it."""
    if any(n.endswith(PAUSE_IMAGE) for n in image_names(layout)):
        return
    layout.images.mkdir(parents=True, exist_ok=True)
    path = layout.images / "pause.tar"
    path.write_bytes(pause_archive(binary))
    ctr(layout, "images", "import", str(path))
    path.unlink()


def import_from_docker(layout: Layout, reference: str) -> str:
    """Copy ``reference`` from the Docker Engine into the cluster; returns the name pods use."""
    if not layout.containerd_socket.exists():
        raise UsageError(
            "the local cluster is not running", hint="start it: shiprail k8s cluster up"
        )
    layout.images.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=layout.images) as tmp:
        archive = Path(tmp) / "image.tar"
        inspect = _subprocess.run(
            ["docker", "image", "inspect", "--format", "{{.Id}}", reference],
            timeout=60,
            ok_codes=None,
            install_hint=DOCKER_HINT,
        )
        if inspect.returncode != 0:
            raise UsageError(
                f"the Docker Engine has no image {reference!r}",
                hint="build it first (shiprail build image), or name one from `docker images`",
            )
        _subprocess.run(
            ["docker", "save", "-o", str(archive), reference],
            timeout=IMPORT_TIMEOUT_SECONDS,
            install_hint=DOCKER_HINT,
        )
        # ``docker save`` of a digest reference writes no name (RepoTags is null): name the
        # imported image by that reference so a pod spec pinned by digest finds it.
        named = ("--index-name", reference) if "@sha256:" in reference else ()
        ctr(layout, "images", "import", *named, str(archive), timeout=IMPORT_TIMEOUT_SECONDS)
    return reference
