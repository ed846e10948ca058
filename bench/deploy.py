"""``make bench-deploy``: how long a blue/green deploy and a rollback take on the local Docker
Engine, and how many requests fail during each under continuous HTTPS load through the edge.

It ships two versions of the workorders image (tags made FROM the newest built image, so no
registry is needed) to a throw-away environment, then rolls back. Figures:

- ``cold_deploy_seconds``: first release, including starting the edge proxy;
- ``deploy_seconds`` / ``deploy_failed``: v1 -> v2 under load (health, smoke, switch, watch);
- ``deploy_to_switch_seconds``: from the command's start until the edge serves v2 (what a
  user waits for; the watch that follows does not delay it);
- ``rollback_seconds`` / ``rollback_to_switch_seconds`` / ``rollback_failed``: back to v1
  from its retained (stopped) containers;
- ``deploy_warm_*`` / ``rollback_warm_*``: the same with ``previous: warm`` (the replaced
  release keeps running without traffic, so the rollback is a switch);
- ``deploy_phases`` / ``rollback_phases``: where the time went, per phase, as the engine
  recorded it in the ledger (admit = pull and verify, start, healthy, smoke, switch,
  watch, drain; record is what remains of the command's time).

The watch window is shortened to ``BENCH_WATCH_SECONDS`` (default 5). The environment is a
dev one that does not verify (no registry is needed; ``make demo`` and the supply-chain
tests verify). Writes ``reports/bench-deploy.json`` and prints a table.
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
import threading
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
from shiprail.image.scan import load_context  # noqa: E402
from shiprail.image.trust import RegistryTrust  # noqa: E402
from shiprail.naming import DEFAULT_SERVICE, Scope  # noqa: E402

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


def cleanup(client: Any, name: str, port: int, tags: list[str]) -> None:
    scope = Scope(DEFAULT_SERVICE, name)
    with contextlib.suppress(Exception):
        client.containers.get(f"shiprail-edge-{port}").remove(force=True)
    label = f"io.shiprail.environment={name}"
    for container in client.containers.list(all=True, filters={"label": label}):
        container.remove(force=True)
    for volume in client.volumes.list(filters={"label": label}):
        volume.remove(force=True)
    for volume in (scope.data_volume, f"shiprail-edge-{port}-conf"):
        with contextlib.suppress(Exception):
            client.volumes.get(volume).remove(force=True)
    for network in client.networks.list(names=[scope.network]):
        network.remove()
    for tag in tags:
        with contextlib.suppress(Exception):
            client.images.remove(tag, force=True)


def unverified_trust(state: Path, client: Any) -> RegistryTrust:
    """The production trust for an environment that pulls from no registry and does not
    verify: it admits the local image as is, and the ledger records it as not verified."""
    return RegistryTrust(
        root=state, state=state, keys=[], client=lambda: client, scan=lambda: load_context(None)
    )


class SwitchWatch:
    """Polls the edge every 20 ms from a thread and notes (in ``seen``) when it first
    answers with the expected version: the moment users are served the new release."""

    seen = 0.0

    def __init__(self, url: str, host: str, verify: ssl.SSLContext, version: str) -> None:
        self.args = (url, host, verify, version)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        url, host, verify, version = self.args
        with httpx.Client(verify=verify, headers={"host": host}, timeout=2) as http:
            while not self.stop.is_set():
                with contextlib.suppress(httpx.HTTPError, ValueError):
                    if http.get(url).json().get("version") == version:
                        SwitchWatch.seen = time.monotonic()
                        return
                time.sleep(0.02)

    def __enter__(self) -> SwitchWatch:
        SwitchWatch.seen = 0.0
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.thread.join(timeout=5)
        self.stop.set()


def phases(ledger: Ledger, environment: str, took: float) -> dict[str, float]:
    """The last attempt's phase timings from the ledger; ``admit`` (pull and verify, before
    the attempt's clock starts) and ``record`` are what the command took beyond them."""
    attempt = ledger.attempts(environment, limit=1)[0]
    recorded = {k: v for k, v in attempt.timings.items() if k != "total"}
    total = attempt.timings.get("total", sum(recorded.values()))
    outside = max(took - total, 0.0)
    return {"admit+record": round(outside, 2), **{k: round(v, 2) for k, v in recorded.items()}}


def main() -> int:
    client = docker_client()
    base = newest_workorders_image(client)
    name = f"dev-bench{secrets.token_hex(3)}"
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
            verify=False,
            registry=None,
        )
        ledger = Ledger(f"sqlite:///{state / 'state.db'}")
        ledger.migrate()
        engine = Engine(
            ShiprailConfig(environments={name: env_cfg}),
            ledger,
            docker_platform(ROOT, state, trust=unverified_trust(state, client)),
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

            def warm() -> None:
                """From here on the environment keeps its previous release warm."""
                cfg = engine.config.environments[name]
                engine.config.environments[name] = cfg.model_copy(update={"previous": "warm"})
                engine.deploy(name, tags[1])

            for label, action, serving in (
                ("deploy", lambda: engine.deploy(name, tags[1]), "2.0.0-bench"),
                ("rollback", lambda: engine.rollback(name), "1.0.0-bench"),
                ("deploy_warm", warm, "2.0.0-bench"),
                ("rollback_warm", lambda: engine.rollback(name), "1.0.0-bench"),
            ):
                with Load(url, workers=WORKERS, verify=verify, host=host) as load:
                    time.sleep(1)
                    started = time.monotonic()
                    with SwitchWatch(f"https://127.0.0.1:{port}/version", host, verify, serving):
                        action()
                        took = time.monotonic() - started
                    results[f"{label}_seconds"] = round(took, 2)
                    results[f"{label}_to_switch_seconds"] = round(SwitchWatch.seen - started, 2)
                    results[f"{label}_phases"] = phases(ledger, name, took)
                    time.sleep(1)
                results[f"{label}_requests"] = load.result.requests
                results[f"{label}_failed"] = load.result.failures
                results[f"{label}_rps"] = round(load.result.requests / load.result.seconds, 1)
            version = httpx.get(
                f"https://127.0.0.1:{port}/version", verify=verify, headers={"host": host}
            ).json()["version"]
            results["serving_after_rollback"] = version
        finally:
            cleanup(client, name, port, tags)
    out = ROOT / "reports" / "bench-deploy.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"{'measure':<28} value")
    for key, value in results.items():
        if isinstance(value, dict):
            value = "  ".join(f"{phase} {seconds:.2f}s" for phase, seconds in value.items())
        print(f"{key:<28} {value}")
    failed = [key for key, value in results.items() if key.endswith("_failed") and value]
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
