"""``make bench-build``: how long the service image takes to build, cold and after a
code-only change, and how big it is; next to a naive single-stage build of the same app, in
the same run, on the same machine.

- layered: ``shiprail build image`` (app/Dockerfile: build stages, then a slim runtime base
  with the dependency layer and the service's own layer on top);
- naive: one ``FROM`` the same Debian-made base the image used before (the full base), ``COPY``
  of the whole app with the same host wheelhouse, ``pip install`` (a Dockerfile written to a
  temporary directory).

Each runs in its own temporary copy of ``app/`` (the repository is never modified), so both
start with an empty wheel cache. ``cold`` runs every Docker step (``nocache``) and fills the
wheel cache; ``rebuild`` appends a comment line to a service module, so the service's wheel
really changes, and builds again. ``seconds`` is the whole command (host wheelhouse and Docker
build), ``docker_seconds`` the Docker build alone. The Debian-made bases are reused when
present (the table says whether this run had to build them, and how long that took).
Prints a table and writes ``reports/bench-build.json``.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from shiprail._docker import docker_client
from shiprail.image.base import ensure_base_image, image_exists, recipe_for, runtime_recipe
from shiprail.image.build import (
    BUILD_STAGE_PACKAGES,
    build_image,
    build_wheelhouse,
    pick_bases,
)

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "reports" / "bench-build.json"
#: The module a code-only change edits (any module of the service would do).
CHANGED_MODULE = Path("app/src/workorders/__init__.py")
NAIVE_DOCKERFILE = """\
FROM {base}
COPY . /src
RUN python3 -m venv /opt/workorders \\
 && /opt/workorders/bin/pip install --no-cache-dir --no-index \\
      --find-links=/src/wheelhouse/deps --find-links=/src/wheelhouse/service workorders
USER 10001:10001
ENTRYPOINT ["/opt/workorders/bin/workorders"]
"""


@dataclass
class Result:
    name: str
    cold_seconds: float
    cold_docker_seconds: float
    rebuild_seconds: float
    rebuild_docker_seconds: float
    size_mb: float
    layers: int
    layers_changed_by_rebuild: int


def app_copy(tmp: Path, name: str) -> Path:
    """A tree holding a copy of ``app/`` only: what the image is built from."""
    root = tmp / name
    shutil.copytree(
        ROOT / "app",
        root / "app",
        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", ".pytest_cache", "tests"),
    )
    return root


def change_code(root: Path) -> None:
    with (root / CHANGED_MODULE).open("a") as handle:
        handle.write(f"# bench-build code-only change {time.time_ns()}\n")


def layers(client: Any, reference: str) -> list[str]:
    return list(client.images.get(reference).attrs["RootFS"]["Layers"])


class Clock:
    """Records when the Docker build starts (the progress line ``building ... FROM``)."""

    def __init__(self) -> None:
        self.docker_started = 0.0

    def __call__(self, message: str) -> None:
        if message.startswith("building ") and " FROM " in message:
            self.docker_started = time.monotonic()


def layered(client: Any, tmp: Path) -> Result:
    root = app_copy(tmp, "layered")
    runs: list[tuple[float, float, str]] = []
    for nocache in (True, False):
        if not nocache:
            change_code(root)
        clock = Clock()
        started = time.monotonic()
        built = build_image(
            client,
            root=root,
            repository="bench-build-layered",
            allow_dirty=True,
            progress=clock,
            nocache=nocache,
        )
        ended = time.monotonic()
        runs.append((ended - started, ended - clock.docker_started, built.reference))
        tagged = f"bench-build-layered:{'cold' if nocache else 'rebuild'}"
        client.images.get(built.reference).tag(tagged)
    return result("layered", client, runs, "bench-build-layered")


def naive(client: Any, tmp: Path, base: str) -> Result:
    root = app_copy(tmp, "naive")
    runs: list[tuple[float, float, str]] = []
    for nocache in (True, False):
        if not nocache:
            change_code(root)
        started = time.monotonic()
        context = root / "context"
        shutil.rmtree(context, ignore_errors=True)
        shutil.copytree(root / "app", context, ignore=shutil.ignore_patterns("Dockerfile"))
        build_wheelhouse(root / "app", context / "wheelhouse", cache=root / ".cache")
        (context / "Dockerfile").write_text(NAIVE_DOCKERFILE.format(base=base))
        docker_started = time.monotonic()
        tag = f"bench-build-naive:{'cold' if nocache else 'rebuild'}"
        client.images.build(
            path=str(context), tag=tag, network_mode="none", rm=True, forcerm=True, nocache=nocache
        )
        ended = time.monotonic()
        runs.append((ended - started, ended - docker_started, tag))
    return result("naive", client, runs, "bench-build-naive")


def result(name: str, client: Any, runs: list[tuple[float, float, str]], repo: str) -> Result:
    (cold, cold_docker, _), (rebuild, rebuild_docker, reference) = runs
    before, after = layers(client, f"{repo}:cold"), layers(client, reference)
    changed = sum(1 for i, layer in enumerate(after) if i >= len(before) or before[i] != layer)
    return Result(
        name,
        round(cold, 1),
        round(cold_docker, 1),
        round(rebuild, 1),
        round(rebuild_docker, 1),
        round(client.images.get(reference).attrs["Size"] / 1e6, 1),
        len(after),
        changed,
    )


def bases(client: Any) -> tuple[str, str, float | None]:
    """The bases of this run (full, runtime) and the seconds spent building them (None: reused)."""
    wanted = (recipe_for(BUILD_STAGE_PACKAGES).tag, runtime_recipe().tag, recipe_for().tag)
    present = all(image_exists(client, tag) for tag in wanted)
    started = time.monotonic()
    pick_bases(client, offline=True)
    full = ensure_base_image(client)
    return full, runtime_recipe().tag, None if present else round(time.monotonic() - started, 1)


def cleanup(client: Any) -> None:
    for repo in ("bench-build-layered", "bench-build-naive"):
        for image in client.images.list(repo):
            for tag in image.tags:
                client.images.remove(tag, force=True)


def main() -> None:
    client = docker_client()
    full, runtime, base_seconds = bases(client)
    cleanup(client)
    with tempfile.TemporaryDirectory(prefix="bench-build-") as scratch:
        tmp = Path(scratch)
        try:
            rows = [layered(client, tmp), naive(client, tmp, full)]
        finally:
            cleanup(client)
    built = "reused (present before the run)" if base_seconds is None else f"built: {base_seconds}s"
    print(f"bases: {built}; naive FROM {full}; layered FROM {runtime}")
    head = ("build", "cold s", "docker", "rebuild s", "docker", "size MB", "layers", "changed")
    print("  " + " ".join(f"{h:>10}" for h in head))
    for row in rows:
        values = list(asdict(row).values())
        print("  " + " ".join(f"{v:>10}" for v in values))
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "bases": {"full": full, "runtime": runtime, "built_seconds": base_seconds},
        "runs": [asdict(row) for row in rows],
    }
    REPORT.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written {REPORT.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
