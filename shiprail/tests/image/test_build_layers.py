"""The image's layers and contents, with the real Docker Engine.

A code-only change must rebuild the service's own layer and nothing under it (the layer
digests prove it, not the time a build takes), and the final image must hold what the
service runs and nothing else: no pip or setuptools, no compilers or package manager, no
docs or translations, no dependency test suites, every binary's libraries present, every
module precompiled into .pyc that are never re-checked.
"""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest

from shiprail.image.build import BuiltImage, build_image

pytestmark = pytest.mark.docker

REPO = Path(__file__).resolve().parents[3]
CHANGED_MODULE = Path("app/src/workorders/__init__.py")

#: Run inside the image: what it holds, as JSON.
INSPECT = r"""
import importlib.util, json, pathlib, shutil, sys, sysconfig
site = pathlib.Path(sysconfig.get_paths()["purelib"])

def pyc_flags(module):
    source = importlib.util.find_spec(module).origin
    with open(importlib.util.cache_from_source(source), "rb") as handle:
        return int.from_bytes(handle.read(8)[4:8], "little")

share = pathlib.Path("/usr/share")
print(json.dumps({
    "python": list(sys.version_info[:2]),
    "modules": [m for m in ("pip", "setuptools", "pkg_resources", "wheel")
                if importlib.util.find_spec(m) is not None],
    "tools": [t for t in ("gcc", "cc", "strip", "apt", "apt-get", "perl", "pip", "pip3")
              if shutil.which(t)],
    "tests": sorted(str(p.relative_to(site)) for p in site.glob("*/test*") if p.is_dir()),
    "pyc_flags": {m: pyc_flags(m) for m in ("fastapi", "sqlalchemy.orm", "workorders.main")},
    "locales": sorted(p.name for p in (share / "locale").iterdir()),
    "docs": sorted({p.name for p in (share / "doc").rglob("*") if p.is_file()}),
    "man": sorted(p.name for p in (share / "man").iterdir()),
    "marker": pathlib.Path(importlib.util.find_spec("workorders").origin).read_text()[-200:],
}))
"""
#: Every shared library or executable whose libraries cannot all be found.
MISSING_LIBRARIES = (
    "find /usr/bin /usr/sbin /usr/lib /opt/workorders -xdev -type f "
    r"\( -name '*.so' -o -name '*.so.*' -o -perm -u+x \) -exec ldd {} + 2>/dev/null "
    "| awk '/:$/ { file = $0 } /not found/ { print file, $0 }'"
)


def app_copy(tmp: Path) -> Path:
    """A tree with a copy of ``app/``; wheel caches are shared with the repository's."""
    root = tmp / "tree"
    shutil.copytree(
        REPO / "app", root / "app", ignore=shutil.ignore_patterns("__pycache__", "tests")
    )
    (REPO / ".cache").mkdir(exist_ok=True)
    (root / ".cache").symlink_to(REPO / ".cache")
    return root


@pytest.fixture(scope="module")
def two_builds(docker_client, tmp_path_factory) -> Any:
    """The image built from a copy of the tree, then again after a code-only change."""
    root = app_copy(tmp_path_factory.mktemp("layers"))
    repository = f"shiprail-test-layers-{uuid.uuid4().hex[:8]}"
    first = build_image(docker_client, root=root, repository=repository, allow_dirty=True)
    marker = f"# code-only change {uuid.uuid4().hex}"
    with (root / CHANGED_MODULE).open("a") as handle:
        handle.write(marker + "\n")
    second_tag = f"{repository}:changed"
    docker_client.images.get(first.reference).tag(f"{repository}:first")
    second = build_image(docker_client, root=root, repository=repository, allow_dirty=True)
    docker_client.images.get(second.reference).tag(second_tag)
    yield first, second, marker, f"{repository}:first", second_tag
    for tag in (f"{repository}:first", second_tag, second.reference):
        docker_client.images.remove(tag, force=True)


def layers(client: Any, reference: str) -> list[str]:
    return list(client.images.get(reference).attrs["RootFS"]["Layers"])


def run(client: Any, reference: str, entrypoint: list[str], user: str = "10001:10001") -> str:
    output = client.containers.run(
        reference,
        entrypoint=entrypoint,
        user=user,
        network_mode="none",
        read_only=True,
        remove=True,
    )
    return bytes(output).decode()


def test_code_only_change_rebuilds_only_the_service_layer(docker_client, two_builds):
    first, second, _marker, first_tag, second_tag = two_builds
    assert isinstance(first, BuiltImage) and first.base == second.base
    before, after = layers(docker_client, first_tag), layers(docker_client, second_tag)
    base = layers(docker_client, first.base)
    assert len(before) == len(after) == len(base) + 3, "base, user, dependencies, service"
    assert after[: len(base)] == base
    assert after[:-1] == before[:-1], "the base, user and dependency layers are reused"
    assert after[-1] != before[-1], "the service's layer carries the change"


def test_the_changed_code_is_what_the_image_runs(docker_client, two_builds):
    _first, _second, marker, _first_tag, second_tag = two_builds
    facts = json.loads(run(docker_client, second_tag, ["python3", "-c", INSPECT]))
    assert marker in facts["marker"]


def test_image_holds_only_what_the_service_runs(docker_client, two_builds):
    first_tag = two_builds[3]
    facts = json.loads(run(docker_client, first_tag, ["python3", "-c", INSPECT]))
    assert facts["python"] == [3, 11]
    assert facts["modules"] == [], "no installer in the image"
    # dpkg itself stays: its database is what SBOM tools read; apt, which installs, is gone.
    assert facts["tools"] == [], "no compiler, binutils, package manager or perl"
    assert facts["tests"] == [], "no test suites of dependencies"
    assert facts["locales"] == [] and facts["man"] == []
    assert facts["docs"] == ["copyright"], "only the licences are kept"
    # 1: hash-based .pyc, not checked against the source (PEP 552), for dependencies and
    # the service alike: nothing is compiled at start on the read-only root filesystem.
    assert set(facts["pyc_flags"].values()) == {1}, facts["pyc_flags"]


def test_every_binary_finds_its_libraries(docker_client, two_builds):
    """The runtime base purges packages with dependencies ignored: nothing left may need
    one of them."""
    first_tag = two_builds[3]
    missing = run(docker_client, first_tag, ["sh", "-c", MISSING_LIBRARIES], user="0")
    assert "not found" not in missing, missing
