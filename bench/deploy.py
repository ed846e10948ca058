"""``make bench-deploy``: how long a blue/green deploy and a rollback take on the local Docker
Engine, and how many requests fail during each under continuous HTTPS load through the edge.

It ships two versions of the workorders image (tags made FROM the newest built image, so no
registry is needed) to a throw-away environment, then rolls back. Figures:

- ``cold_deploy_seconds``: first release, including starting the edge proxy;
- ``deploy_seconds`` / ``deploy_failed``: v1 -> v2 under load (health, smoke, switch, watch);
- ``rollback_seconds`` / ``rollback_failed``: back to v1 from its retained containers.

The watch window is shortened to ``BENCH_WATCH_SECONDS`` (default 5). Writes
``reports/bench-deploy.json`` and prints a table.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import secrets
import socket
import ssl
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "shiprail" / "tests" / "deploy"))

from load import Load  # noqa: E402

from shiprail._docker import docker_client  # noqa: E402
from shiprail.config import ShiprailConfig  # noqa: E402
from shiprail.deploy.engine import Engine  # noqa: E402
from shiprail.deploy.ledger import Ledger  # noqa: E402
from shiprail.deploy.platform import docker_platform  # noqa: E402
from shiprail.deploy.settings import EdgeConfig, EnvironmentConfig, WatchConfig  # noqa: E402

WATCH_SECONDS = float(os.environ.get("BENCH_WATCH_SECONDS", "5"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "4"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tag_from(client: Any, base: str, tag: str, version: str) -> str:
    dockerfile = f"FROM {base}\nENV WORKORDERS_VERSION={version}\n".encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(dockerfile)
        tar.addfile(info, io.BytesIO(dockerfile))
    buffer.seek(0)
    client.images.build(fileobj=buffer, custom_context=True, tag=tag, network_mode="none", rm=True)
    return tag


def newest_workorders_image(client: Any) -> str:
    if image := os.environ.get("BENCH_IMAGE"):
        return image
    tags = [t for i in client.images.list("workorders") for t in i.tags]
    if not tags:
        sys.exit("bench-deploy: no workorders image; run `make image` first")
    return sorted(tags, key=lambda t: client.images.get(t).attrs["Created"])[-1]


def cleanup(client: Any, name: str, tags: list[str]) -> None:
    label = f"io.shiprail.environment={name}"
    for container in client.containers.list(all=True, filters={"label": label}):
        container.remove(force=True)
    for volume in client.volumes.list(filters={"label": label}):
        volume.remove(force=True)
    for volume in (f"shiprail-{name}-data", f"shiprail-{name}-edge-conf"):
        with contextlib.suppress(Exception):
            client.volumes.get(volume).remove(force=True)
    for network in client.networks.list(names=[f"backend-{name}"]):
        network.remove()
    for tag in tags:
        with contextlib.suppress(Exception):
            client.images.remove(tag, force=True)


def main() -> int:
    client = docker_client()
    base = newest_workorders_image(client)
    name = f"bench{secrets.token_hex(3)}"
    port = free_port()
    tags = [tag_from(client, base, f"shiprail-bench/{name}:v{n}", f"{n}.0.0-bench") for n in (1, 2)]
    results: dict[str, Any] = {
        "image": base,
        "load_workers": WORKERS,
        "watch_seconds": WATCH_SECONDS,
    }
    with tempfile.TemporaryDirectory(prefix="shiprail-bench-") as tmp:
        state = Path(tmp)
        env_cfg = EnvironmentConfig(
            replicas=2,
            env={"WORKORDERS_ENV": "dev"},
            edge=EdgeConfig(hostname=f"{name}.localhost", port=port),
            watch=WatchConfig(window_seconds=WATCH_SECONDS, interval_seconds=1),
            drain_seconds=2,
        )
        ledger = Ledger(f"sqlite:///{state / 'state.db'}")
        ledger.migrate()
        engine = Engine(
            ShiprailConfig(environments={name: env_cfg}),
            ledger,
            docker_platform(ROOT, state),
            file_sd_dir=state / "targets",
            root=ROOT,
            actor="bench",
            say=lambda m: print(f"bench-deploy: {m}", file=sys.stderr),
        )
        try:
            started = time.monotonic()
            engine.deploy(name, tags[0])
            results["cold_deploy_seconds"] = round(time.monotonic() - started, 2)
            verify = ssl.create_default_context(cafile=str(state / "edge" / "ca" / "ca.pem"))
            url = f"https://127.0.0.1:{port}/api/v1/workorders"
            host = f"{name}.localhost"
            for label, action in (
                ("deploy", lambda: engine.deploy(name, tags[1])),
                ("rollback", lambda: engine.rollback(name)),
            ):
                with Load(url, workers=WORKERS, verify=verify, host=host) as load:
                    time.sleep(1)
                    started = time.monotonic()
                    action()
                    results[f"{label}_seconds"] = round(time.monotonic() - started, 2)
                    time.sleep(1)
                results[f"{label}_requests"] = load.result.requests
                results[f"{label}_failed"] = load.result.failures
                results[f"{label}_rps"] = round(load.result.requests / load.result.seconds, 1)
            version = httpx.get(
                f"https://127.0.0.1:{port}/version", verify=verify, headers={"host": host}
            ).json()["version"]
            results["serving_after_rollback"] = version
        finally:
            cleanup(client, name, tags)
    out = ROOT / "reports" / "bench-deploy.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"{'measure':<26} value")
    for key, value in results.items():
        print(f"{key:<26} {value}")
    return 0 if results["deploy_failed"] == 0 and results["rollback_failed"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
