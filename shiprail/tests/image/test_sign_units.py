"""The parts of signing that need no registry: passphrases, provenance, tags, references."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from shiprail.errors import UsageError
from shiprail.image import cosign, provenance
from shiprail.image.publish import release_tags
from shiprail.image.registry import RegistryAccess
from shiprail.image.sign import attest_sbom, sign
from shiprail.image.verify import repository_of

ACCESS = RegistryAccess("127.0.0.1:5000", "shiprail", "pw")
KEY = cosign.SigningKey(Path("/nonexistent/cosign.key"), "pw")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture
def repo(tmp_path) -> Path:
    git(tmp_path, "init", "-q")
    git(tmp_path, "config", "user.email", "t@example.org")
    git(tmp_path, "config", "user.name", "t")
    (tmp_path / "f").write_text("x")
    git(tmp_path, "add", "f")
    git(tmp_path, "commit", "-q", "-m", "one")
    return tmp_path


def test_passphrase_from_file_then_setting_and_never_empty(tmp_path, monkeypatch):
    secret = tmp_path / "pass"
    secret.write_text("from-file\nignored\n")
    monkeypatch.setenv("SHIPRAIL_COSIGN_PASSWORD", "from-env")
    assert cosign.passphrase(secret) == "from-file"
    assert cosign.passphrase() == "from-env"
    monkeypatch.delenv("SHIPRAIL_COSIGN_PASSWORD")
    from shiprail.settings import get_settings

    get_settings.cache_clear()
    with pytest.raises(UsageError, match="no passphrase"):
        cosign.passphrase()
    with pytest.raises(UsageError, match="cannot read"):
        cosign.passphrase(tmp_path / "missing")


def test_secrets_stay_out_of_reprs():
    assert "pw" not in repr(ACCESS).replace("password", "")
    assert "'pw'" not in repr(KEY)


def test_release_tags_are_sha_version_and_semver_never_latest(repo):
    head = git(repo, "rev-parse", "HEAD")
    assert release_tags(repo, "1.0.0", head) == (head, f"1.0.0-{head[:12]}")
    git(repo, "tag", "v1.0.0")
    git(repo, "tag", "release-candidate")
    assert release_tags(repo, "1.0.0", head) == (head, f"1.0.0-{head[:12]}", "v1.0.0")


def test_source_repository_drops_credentials_and_falls_back_to_the_path(repo):
    assert provenance.source_repository(repo) == f"file://{repo.resolve()}"
    git(repo, "remote", "add", "origin", "https://bot:tok@example.org/team/app.git")
    assert provenance.source_repository(repo) == "https://example.org/team/app"


def test_full_commit_expands_a_short_revision(repo):
    head = git(repo, "rev-parse", "HEAD")
    assert provenance.full_commit(repo, head[:12]) == head
    with pytest.raises(UsageError, match="not in the repository"):
        provenance.full_commit(repo, "0123456789ab")


def test_predicate_names_source_builder_and_dependencies(tmp_path):
    (tmp_path / "Flask_Login-0.6.3-py3-none-any.whl").write_bytes(b"wheel")
    (tmp_path / "notes.txt").write_text("not a wheel")
    wheels = provenance.wheels(tmp_path)
    assert [w.uri for w in wheels] == ["pkg:pypi/flask-login@0.6.3"]
    facts = provenance.BuildFacts(
        "https://example.org/team/app", "a" * 40, "urn:x", {"version": "1"}, wheels
    )
    build = provenance.predicate(facts)["buildDefinition"]
    assert build["externalParameters"]["source"]["commit"] == "a" * 40
    assert build["resolvedDependencies"][0] == {
        "uri": "git+https://example.org/team/app",
        "digest": {"gitCommit": "a" * 40},
        "name": "source",
    }
    assert len(build["resolvedDependencies"][1]["digest"]["sha256"]) == 64


def test_signing_a_tag_is_refused_before_cosign_runs():
    with pytest.raises(UsageError, match="not a reference by digest"):
        sign("127.0.0.1:5000/workorders:v1", KEY, ACCESS)


def test_an_sbom_must_be_cyclonedx_json(tmp_path):
    spdx = tmp_path / "sbom.json"
    spdx.write_text('{"spdxVersion": "SPDX-2.3"}')
    with pytest.raises(UsageError, match="not a CycloneDX"):
        attest_sbom("r@sha256:" + "0" * 64, KEY, ACCESS, spdx)


@pytest.mark.parametrize(
    ("image", "repository"),
    [
        ("127.0.0.1:5000/workorders:v1", "127.0.0.1:5000/workorders"),
        ("127.0.0.1:5000/team/workorders@sha256:ab", "127.0.0.1:5000/team/workorders"),
        ("127.0.0.1:5000/workorders", "127.0.0.1:5000/workorders"),
    ],
)
def test_repository_of_a_reference(image, repository):
    assert repository_of(image) == repository


def test_a_dirty_image_gets_dirty_tags_and_no_version_tag(tmp_path):
    from shiprail.image.publish import release_tags

    sha = "a" * 40
    assert release_tags(tmp_path, "1.2.3", sha, dirty=True) == (
        f"{sha}-dirty",
        "1.2.3-aaaaaaaaaaaa-dirty",
    )
