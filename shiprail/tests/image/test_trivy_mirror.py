"""``shiprail image mirror-db``: Trivy's database mirrored into the local registry, and a
scan that pulls it from there with ``image_scan.trivy_db_repository``.

The database is the real one ``scripts/trivy-test-db`` writes (CVE-2023-45853 for Debian's
zlib), the registry the real ``docker-registry`` with TLS and htpasswd, Trivy the pinned
binary pulling into an empty cache: nothing between shiprail and Trivy is faked.
"""

from __future__ import annotations

import hashlib
import json
import ssl
import tarfile
from pathlib import Path

import httpx
import pytest
import yaml
from typer.testing import CliRunner

from shiprail.cli import app
from shiprail.image.registry import LocalRegistry
from shiprail.image.scan import load_context, scan_image
from shiprail.image.trivy import pull_env
from shiprail.image.trivy_mirror import pack_database
from shiprail.scan.engine import RAN

from .conftest import write_config
from conftest import require_tools

DEBIAN_ADVISORY = "CVE-2023-45853"


def sha256(data: bytes) -> str:
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


def small_cache(root: Path) -> Path:
    """A Trivy cache directory with a stand-in database (the layout test reads no bolt)."""
    (root / "db").mkdir(parents=True)
    (root / "db" / "trivy.db").write_bytes(b"bolt database bytes")
    (root / "db" / "metadata.json").write_text(
        json.dumps({"Version": 2, "UpdatedAt": "2026-11-30T10:00:00Z"})
    )
    return root


def test_the_artifact_is_laid_out_as_trivy_pulls_it(tmp_path):
    cache = small_cache(tmp_path / "cache")
    (tmp_path / "one").mkdir()
    artifact = pack_database(cache, tmp_path / "one")
    manifest = json.loads(artifact.manifest())
    assert manifest["schemaVersion"] == 2
    assert manifest["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
    assert manifest["config"] == {
        "mediaType": "application/vnd.aquasec.trivy.config.v1+json",
        "digest": sha256(b"{}"),
        "size": 2,
    }
    archive = tmp_path / "one" / "db.tar.gz"
    assert manifest["layers"] == [
        {
            "mediaType": "application/vnd.aquasec.trivy.db.layer.v1.tar+gzip",
            "digest": sha256(archive.read_bytes()),
            "size": archive.stat().st_size,
            "annotations": {"org.opencontainers.image.title": "db.tar.gz"},
        }
    ]
    assert artifact.digest == sha256(artifact.manifest())
    with tarfile.open(archive) as tar:
        assert tar.getnames() == ["trivy.db", "metadata.json"], "at the root, as Trivy unpacks"
        member = tar.extractfile("trivy.db")
        assert member is not None and member.read() == b"bolt database bytes"
        assert {m.uname for m in tar.getmembers()} == {""}, "no local user names"
    (tmp_path / "two").mkdir()
    again = pack_database(cache, tmp_path / "two")
    assert again.manifest() == artifact.manifest(), "the same database, the same digests"


def test_mirror_db_without_a_database_is_a_usage_error(tmp_path, monkeypatch):
    monkeypatch.setenv("SHIPRAIL_STATE_DIR", str(tmp_path / "state"))
    (tmp_path / "cache" / "db").mkdir(parents=True)
    result = CliRunner().invoke(app, ["image", "mirror-db", str(tmp_path / "cache")])
    assert result.exit_code == 2, result.output
    assert f"no Trivy database in {tmp_path / 'cache'}" in result.stderr
    assert str(tmp_path / "cache" / "db" / "trivy.db") in result.stderr
    assert result.stdout == "", "no reference printed"
    assert not (tmp_path / "state" / "registry").exists(), "refused before the registry"


def test_another_registry_is_left_to_the_ambient_docker_login(tmp_path, monkeypatch):
    monkeypatch.setenv("SHIPRAIL_STATE_DIR", str(tmp_path / "state"))
    with pull_env("mirror.gcr.io/aquasec/trivy-db:2") as env:
        assert env == {}
    with pull_env(None) as env:
        assert env == {}


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    require_tools("trivy", "docker-registry", "htpasswd")
    local = LocalRegistry(tmp_path_factory.mktemp("state"))
    local.up()
    yield local
    local.down(purge=True)


def pulled_manifest(registry: LocalRegistry, repository: str, tag: str) -> dict:
    access = registry.access()
    answer = httpx.get(
        f"https://{access.host}/v2/{repository}/manifests/{tag}",
        headers={"Accept": "application/vnd.oci.image.manifest.v1+json"},
        auth=(access.username, access.password),
        verify=ssl.create_default_context(cafile=str(access.ca_file)),
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.mark.docker
def test_a_scan_pulls_the_mirrored_database_from_the_local_registry(
    docker_client, workorders_image, trivy_db, registry, tmp_path, monkeypatch
):
    monkeypatch.setenv("SHIPRAIL_STATE_DIR", str(registry.dir.parent))
    access = registry.access()
    mirrored = CliRunner().invoke(app, ["image", "mirror-db", str(trivy_db)])
    assert mirrored.exit_code == 0, mirrored.output
    reference = mirrored.stdout.strip()
    assert reference == f"{access.host}/trivy-db:2"
    assert access.password not in mirrored.output
    manifest = pulled_manifest(registry, "trivy-db", "2")
    assert manifest["config"]["mediaType"] == "application/vnd.aquasec.trivy.config.v1+json"
    assert [layer["mediaType"] for layer in manifest["layers"]] == [
        "application/vnd.aquasec.trivy.db.layer.v1.tar+gzip"
    ]

    config = write_config(tmp_path / "repo", trivy_db_dir=None)
    document = yaml.safe_load(config.read_text())
    document["image_scan"]["trivy_db_repository"] = reference
    config.write_text(yaml.safe_dump(document))
    cache = Path(document["image_scan"]["cache_dir"])
    assert not cache.exists(), "an empty cache: the database can only come from the registry"

    ctx = load_context(config)
    result = scan_image(docker_client, workorders_image.reference, ctx)
    trivy_run = next(run for run in result.outcome.runs if run.name == "trivy")
    assert trivy_run.status == RAN, trivy_run.reason
    assert DEBIAN_ADVISORY in {f.rule.id for f in trivy_run.findings}
    assert (cache / "db" / "trivy.db").is_file(), "Trivy pulled the database into its cache"
    assert trivy_run.notes[0].message == f"Trivy database from {reference}"
    assert any(i.finding.rule.id == DEBIAN_ADVISORY for i in result.outcome.decision.blocking)

    with pull_env(reference) as env:
        assert env["TRIVY_USERNAME"] == access.username
        assert access.ca_file is not None
        assert access.ca_file.read_text() in Path(env["SSL_CERT_FILE"]).read_text()
