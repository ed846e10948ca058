"""A dirty working tree: refused by ``shiprail build image`` unless ``--allow-dirty``, and
then labelled ``io.shiprail.dirty=true`` and recorded as dirty in the provenance.

The trees are real git repositories in temporary directories; the refusal is checked with a
Docker client that fails the test when touched, and through the CLI with no engine at all.
"""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest

from shiprail.errors import UsageError
from shiprail.image import provenance
from shiprail.image.base import ensure_base_image
from shiprail.image.build import (
    DIRTY_LABEL,
    build_image,
    image_is_dirty,
    uncommitted_paths,
    working_tree_dirty,
)

from .conftest import shiprail


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture
def repo(tmp_path) -> Path:
    """A committed tree shaped like this repository: app/pyproject.toml and a .gitignore."""
    root = tmp_path / "repo"
    (root / "app").mkdir(parents=True)
    (root / "app" / "pyproject.toml").write_text('[project]\nname = "w"\nversion = "1.2.3"\n')
    (root / ".gitignore").write_text("/build/\n*.log\n")
    git(root, "init", "-q")
    git(root, "config", "user.email", "t@example.org")
    git(root, "config", "user.name", "t")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "one")
    return root


class DockerTouched(AssertionError):
    """Raised by :class:`NoDocker` on any use: an AssertionError, so it fails the test."""


class NoDocker:
    """A Docker client that must not be used: every attribute (``images``, ``ping``, ...)
    raises, so a build that reaches Docker fails the test instead of building."""

    def __getattr__(self, name: str):
        raise DockerTouched(f"Docker was used (client.{name}) before the tree was checked")


def test_a_committed_tree_is_clean(repo):
    assert working_tree_dirty(repo) is False
    assert uncommitted_paths(repo) == []


def test_a_modified_tracked_file_is_dirty(repo):
    (repo / "app" / "pyproject.toml").write_text("changed\n")
    assert working_tree_dirty(repo) is True
    assert uncommitted_paths(repo) == ["app/pyproject.toml"]


def test_a_staged_rename_is_dirty_and_named_once(repo):
    git(repo, "mv", ".gitignore", "ignore-rules")
    assert uncommitted_paths(repo) == ["ignore-rules"]  # the rename's source is not a path


def test_an_untracked_file_is_dirty_and_named_one_by_one(repo):
    (repo / "app" / "new").mkdir()
    (repo / "app" / "new" / "a.py").write_text("")
    (repo / "app" / "new" / "b.py").write_text("")
    assert working_tree_dirty(repo) is True
    assert uncommitted_paths(repo) == ["app/new/a.py", "app/new/b.py"]


def test_ignored_files_are_not_dirty(repo):
    (repo / "build" / "image-context").mkdir(parents=True)
    (repo / "build" / "image-context" / "Dockerfile").write_text("FROM scratch\n")
    (repo / "debug.log").write_text("noise")
    assert working_tree_dirty(repo) is False


def test_a_directory_outside_git_is_not_dirty(tmp_path):
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "file").write_text("x")
    assert working_tree_dirty(plain) is False


def test_a_dirty_tree_is_refused_before_docker_is_touched(repo):
    (repo / "scratch.py").write_text("print('not committed')\n")
    (repo / "app" / "pyproject.toml").write_text('[project]\nname = "w"\nversion = "9.9.9"\n')
    with pytest.raises(UsageError) as caught:
        build_image(NoDocker(), root=repo)  # type: ignore[arg-type]
    error = caught.value
    assert error.exit_code == 2
    assert "uncommitted changes (2 files, e.g. " in error.message
    assert "an image must come from a commit" in error.message
    assert error.hint is not None and "--allow-dirty" in error.hint
    assert not (repo / "build").exists()  # nothing was staged either


def test_a_dirty_tree_is_built_when_allowed(repo):
    (repo / "scratch.py").write_text("")
    with pytest.raises(DockerTouched):  # past the check: on to choosing the base image
        build_image(NoDocker(), root=repo, allow_dirty=True)  # type: ignore[arg-type]


def test_a_clean_tree_goes_on_to_docker(repo):
    with pytest.raises(DockerTouched):
        build_image(NoDocker(), root=repo)  # type: ignore[arg-type]


def test_the_cli_refuses_a_dirty_tree_with_exit_2_and_no_engine(repo):
    (repo / "scratch.py").write_text("")
    result = shiprail(["build", "image"], repo, DOCKER_HOST="unix:///nonexistent/docker.sock")
    assert result.returncode == 2, result.stderr
    assert "uncommitted changes (1 file, e.g. scratch.py)" in result.stderr
    assert "hint: commit or stash them, or pass --allow-dirty" in result.stderr
    assert result.stdout == ""


def test_the_cli_offers_allow_dirty():
    result = shiprail(["build", "image", "--help"], Path.cwd(), COLUMNS="200")
    assert "--allow-dirty" in result.stdout
    assert "SHIPRAIL_ALLOW_DIRTY" in result.stdout


@pytest.mark.parametrize(
    ("labels", "dirty"),
    [
        ({DIRTY_LABEL: "true"}, True),
        ({DIRTY_LABEL: "false"}, False),
        ({DIRTY_LABEL: "TRUE"}, True),
        ({DIRTY_LABEL: "maybe"}, True),  # only an explicit "false" is clean
        ({}, False),  # built before the label existed
        (None, False),
    ],
)
def test_image_is_dirty_reads_the_label(labels, dirty):
    assert image_is_dirty(labels) is dirty


def test_the_predicate_records_dirty_beside_repository_and_commit():
    for dirty in (True, False):
        facts = provenance.BuildFacts("https://example.org/a", "a" * 40, "urn:x", dirty=dirty)
        source = provenance.predicate(facts)["buildDefinition"]["externalParameters"]["source"]
        assert source == {"repository": "https://example.org/a", "commit": "a" * 40, "dirty": dirty}


@pytest.mark.docker
def test_gather_reads_dirty_from_the_image_label(docker_client, repo, tmp_path):
    """An image labelled like ``build_image`` labels it; the facts follow the label, not
    the tree (the temporary repository is clean throughout)."""
    base = ensure_base_image(docker_client)
    (tmp_path / "ctx").mkdir()
    (tmp_path / "ctx" / "Dockerfile").write_text(f"FROM {base}\n")
    seen = {}
    for value in ("true", "false", None):
        tag = f"shiprail-test-dirty:{uuid.uuid4().hex[:12]}"
        labels = {DIRTY_LABEL: value} if value else {}
        docker_client.images.build(
            path=str(tmp_path / "ctx"), tag=tag, labels=labels, network_mode="none", rm=True
        )
        try:
            facts = provenance.gather(docker_client, tag, repo, commit="a" * 40)
        finally:
            docker_client.images.remove(tag, force=True)
        seen[value] = provenance.predicate(facts)["buildDefinition"]["externalParameters"][
            "source"
        ]["dirty"]
    assert seen == {"true": True, "false": False, None: False}
