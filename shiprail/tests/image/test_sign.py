"""Publish, sign, attest and verify with the real registry, the real cosign and Docker Engine.

One registry (``docker-registry`` with TLS from the local CA and htpasswd auth) serves the
module. Tiny images are built FROM the Debian-made base with labels that name a commit of a
throwaway git repository, so each case pushes real content and cosign signs real digests.
Each refusal names its check: an unsigned image, a tag moved to other content, a wrong key,
a provenance for another commit.
"""

from __future__ import annotations

import json
import ssl
import subprocess
import uuid
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from shiprail.cli import app
from shiprail.errors import Refused
from shiprail.findings import Category
from shiprail.image import keys, provenance, scan_record
from shiprail.image.base import ensure_base_image
from shiprail.image.publish import Published, publish, push, release_tags
from shiprail.image.registry import LocalRegistry, RegistryAccess
from shiprail.image.sbom import image_digest, sbom_path, sha256_file
from shiprail.image.scan import Context, load_context
from shiprail.image.scan_record import ScanRecord
from shiprail.image.verify import CHECKS, VerificationFailed, verify
from shiprail.scan.engine import RAN, ScannerRun

from .conftest import write_config
from conftest import require_tools


def trust(ca) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(ca))


pytestmark = pytest.mark.docker

PASSWORD = "test-passphrase-" + uuid.uuid4().hex
ORIGIN = "https://example.org/team/workorders"
VERSION = "1.2.3"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    """A repository with two commits; the second is tagged v1.2.3 and the remote has a token."""
    root = tmp_path_factory.mktemp("repo")
    git(root, "init", "-q")
    git(root, "config", "user.email", "test@example.org")
    git(root, "config", "user.name", "test")
    git(root, "remote", "add", "origin", "https://ci:secret-token@example.org/team/workorders.git")
    for n in (1, 2):
        (root / "file.txt").write_text(f"{n}\n")
        git(root, "add", "file.txt")
        git(root, "commit", "-q", "-m", f"commit {n}")
    git(root, "tag", f"v{VERSION}")
    write_config(root, trivy_db_dir=None)  # the gate publish and verify judge scans by
    return root


@pytest.fixture(scope="module")
def gate(repo: Path) -> Context:
    return load_context(repo / "shiprail.yaml")


def record_clean_scan(client, image: str, gate: Context) -> None:
    """A scan record with no finding for ``image``: these tests are about signatures (the
    supply-chain proof scans real images with Trivy and the OSV data)."""
    runs = (
        ScannerRun("trivy", Category.container, RAN),
        ScannerRun("osv", Category.dependencies, RAN),
    )
    digest = image_digest(client, image)
    sbom = sbom_path(gate.sbom_dir(), digest)
    sbom.parent.mkdir(parents=True, exist_ok=True)
    sbom.write_text(json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1}))
    record = ScanRecord(
        image, digest, sha256_file(sbom), scan_record.now(), scan_record.now(), runs
    )
    scan_record.save(record, gate.sbom_dir())


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    require_tools("cosign", "docker-registry", "htpasswd")
    local = LocalRegistry(tmp_path_factory.mktemp("state"))
    local.up()
    yield local
    local.down(purge=True)


@pytest.fixture(scope="module")
def access(registry) -> RegistryAccess:
    return registry.access()


@pytest.fixture(scope="module")
def key_dirs(tmp_path_factory):
    good = keys.generate(tmp_path_factory.mktemp("keys-good"), PASSWORD)
    wrong = keys.generate(tmp_path_factory.mktemp("keys-wrong"), PASSWORD)
    return good, wrong


@pytest.fixture(scope="module")
def base(docker_client) -> str:
    return ensure_base_image(docker_client)


def build_tiny(client, base: str, tmp: Path, revision: str, marker: str) -> str:
    """An image FROM the base labelled like ``shiprail build image`` labels its images."""
    tag = f"shiprail-test-sign:{uuid.uuid4().hex[:12]}"
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "Dockerfile").write_text(
        f"FROM {base}\n"
        f'LABEL org.opencontainers.image.revision="{revision}" '
        f'org.opencontainers.image.version="{VERSION}" marker="{marker}"\n'
    )
    client.images.build(path=str(tmp), tag=tag, network_mode="none", rm=True)
    return tag


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory) -> Path:
    house = tmp_path_factory.mktemp("wheelhouse")
    (house / "workorders-1.2.3-py3-none-any.whl").write_bytes(b"the service wheel")
    return house


def do_publish(docker_client, base, repo, gate, access, key_dirs, tmp, repository, **kw):
    sha12 = git(repo, "rev-parse", "--short=12", "HEAD")
    image = build_tiny(docker_client, base, tmp, sha12, uuid.uuid4().hex)
    record_clean_scan(docker_client, image, gate)
    signing = keys.signing_key(key_dirs[0].private_key, PASSWORD)
    return publish(
        docker_client, image, access, signing, root=repo, ctx=gate, repository=repository, **kw
    )


@pytest.fixture(scope="module")
def published(
    docker_client, base, repo, registry, gate, access, key_dirs, tmp_path_factory, wheelhouse
):
    return do_publish(
        docker_client, base, repo, gate, access, key_dirs,
        tmp_path_factory.mktemp("ctx"), "workorders", wheelhouse=wheelhouse,
    )  # fmt: skip


def check_verify(access, image, key, repo, **kw):
    return verify(
        image,
        [key],
        access,
        repository=kw.pop("repository", ORIGIN),
        commit=kw.pop("commit", git(repo, "rev-parse", "HEAD")),
        scan=load_context(repo / "shiprail.yaml"),
        **kw,
    )


def test_publish_pushes_by_digest_with_release_tags(published: Published, repo, access):
    head = git(repo, "rev-parse", "HEAD")
    assert published.pushed.tags == (head, f"{VERSION}-{head[:12]}", f"v{VERSION}")
    assert release_tags(repo, VERSION, head) == published.pushed.tags
    listed = httpx.get(
        f"https://{access.host}/v2/workorders/tags/list",
        auth=(access.username, access.password),
        verify=trust(access.ca_file),
    ).json()["tags"]
    cosign_tags = [published.pushed.digest.replace(":", "-") + s for s in (".att", ".sig")]
    assert sorted(listed) == sorted([*published.pushed.tags, *cosign_tags])
    assert "latest" not in listed
    assert published.signed.attestations == ("slsaprovenance1", "cyclonedx", "vuln")


def test_the_registry_refuses_anonymous_and_wrong_passwords(access):
    url = f"https://{access.host}/v2/"
    assert httpx.get(url, verify=trust(access.ca_file)).status_code == 401
    wrong = httpx.get(url, auth=(access.username, "nope"), verify=trust(access.ca_file))
    assert wrong.status_code == 401
    with pytest.raises(httpx.ConnectError):  # TLS verified against the local CA only
        httpx.get(url)


def test_happy_path_passes_every_check(published, access, key_dirs, repo):
    by_tag = f"{published.pushed.repository}:{published.pushed.tags[0]}"
    result = check_verify(access, by_tag, key_dirs[0].public_key, repo)
    assert result.passed and [c.name for c in result.checks] == list(CHECKS)
    assert result.digest == published.pushed.digest
    by_digest = check_verify(access, published.pushed.reference, key_dirs[0].public_key, repo)
    assert by_digest.passed


def test_any_configured_key_may_have_signed(published, access, key_dirs, repo, gate):
    result = verify(
        published.pushed.reference,
        [key_dirs[1].public_key, key_dirs[0].public_key],
        access,
        repository=ORIGIN,
        commit=git(repo, "rev-parse", "HEAD"),
        scan=gate,
    )
    assert result.key == str(key_dirs[0].public_key)


def test_provenance_names_source_builder_base_and_wheels(published, access, key_dirs, wheelhouse):
    out = plain_cosign(
        access, "verify-attestation", f"--key={key_dirs[0].public_key}",
        "--type=slsaprovenance1", "--insecure-ignore-tlog=true", published.pushed.reference,
    )  # fmt: skip
    statement = decode_first(out)
    assert statement["predicateType"] == provenance.PREDICATE_TYPE
    assert statement["subject"][0]["digest"]["sha256"] == published.pushed.digest[7:]
    build = statement["predicate"]["buildDefinition"]
    assert build["externalParameters"]["source"] == {
        "repository": ORIGIN,  # the remote's token never reaches the provenance
        "commit": published.pushed.commit,
        "dirty": False,  # the image carries no io.shiprail.dirty label
    }
    resolved = {d.get("name"): d for d in build["resolvedDependencies"]}
    assert resolved["base-image"]["uri"].startswith("docker-image://shiprail/python-base")
    wheel = resolved["workorders-1.2.3-py3-none-any.whl"]
    assert wheel["uri"] == "pkg:pypi/workorders@1.2.3"
    assert statement["predicate"]["runDetails"]["builder"]["id"].startswith("urn:shiprail:")


def test_plain_cosign_verifies_signature_and_sbom(published, access, key_dirs):
    """The commands docs/supply-chain.md gives for verifying by hand."""
    key = f"--key={key_dirs[0].public_key}"
    ref = published.pushed.reference
    signed = json.loads(plain_cosign(access, "verify", key, "--insecure-ignore-tlog=true", ref))
    assert signed[0]["critical"]["image"]["docker-manifest-digest"] == published.pushed.digest
    out = plain_cosign(
        access, "verify-attestation", key, "--type=cyclonedx", "--insecure-ignore-tlog=true", ref
    )
    assert decode_first(out)["predicate"]["bomFormat"] == "CycloneDX"


def test_unsigned_image_is_refused(docker_client, base, repo, access, key_dirs, tmp_path):
    image = build_tiny(
        docker_client, base, tmp_path, git(repo, "rev-parse", "--short=12", "HEAD"), "x"
    )
    pushed = push(docker_client, image, access, repository="unsigned", tags=("t1",), commit="c")
    with pytest.raises(VerificationFailed) as caught:
        check_verify(access, f"{pushed.repository}:t1", key_dirs[0].public_key, repo)
    assert "check 'signature' failed" in str(caught.value)
    assert isinstance(caught.value, Refused) and caught.value.exit_code == 1


def test_tampered_tag_is_refused(docker_client, base, repo, gate, access, key_dirs, tmp_path):
    good = do_publish(docker_client, base, repo, gate, access, key_dirs, tmp_path / "a", "tampered")
    other = build_tiny(docker_client, base, tmp_path / "b", good.pushed.commit[:12], "evil")
    push(docker_client, other, access, repository="tampered", tags=good.pushed.tags[:1], commit="x")
    by_tag = f"{good.pushed.repository}:{good.pushed.tags[0]}"
    with pytest.raises(VerificationFailed) as caught:
        check_verify(access, by_tag, key_dirs[0].public_key, repo)
    assert caught.value.verification.failed.name == "signature"
    with pytest.raises(VerificationFailed, match="check 'digest' failed"):
        check_verify(
            access, by_tag, key_dirs[0].public_key, repo, expected_digest=good.pushed.digest
        )


def test_wrong_key_is_refused(published, access, key_dirs, repo):
    with pytest.raises(VerificationFailed, match="check 'signature' failed"):
        check_verify(access, published.pushed.reference, key_dirs[1].public_key, repo)


def test_provenance_for_another_commit_is_refused(published, access, key_dirs, repo):
    first = git(repo, "rev-parse", "HEAD~1")
    with pytest.raises(VerificationFailed) as caught:
        check_verify(access, published.pushed.reference, key_dirs[0].public_key, repo, commit=first)
    checks = caught.value.verification.checks
    assert [c.name for c in checks] == list(CHECKS[:5]) and checks[-1].passed is False
    assert first in checks[-1].detail


def test_provenance_of_another_repository_is_refused(published, access, key_dirs, repo):
    with pytest.raises(VerificationFailed, match="check 'source' failed"):
        check_verify(
            access, published.pushed.reference, key_dirs[0].public_key, repo,
            repository="https://example.org/someone-else/workorders",
        )  # fmt: skip


def plain_cosign(access: RegistryAccess, *args: str) -> str:
    """cosign as a person would run it, after ``cosign login`` (here: a private config)."""
    from shiprail.image import cosign

    return cosign.run(list(args), access=access).stdout


def decode_first(output: str) -> dict:
    import base64

    envelope = json.loads(next(line for line in output.splitlines() if line.startswith("{")))
    return json.loads(base64.b64decode(envelope["payload"]))


def test_cli_verify_passes_and_refuses_with_exit_1(
    published, registry, key_dirs, repo, monkeypatch
):
    monkeypatch.setenv("SHIPRAIL_STATE_DIR", str(registry.dir.parent))
    monkeypatch.setenv("SHIPRAIL_ROOT", str(repo))  # this repository, its HEAD
    runner = CliRunner()
    ref = published.pushed.reference
    good = runner.invoke(app, ["verify", ref, "--key", str(key_dirs[0].public_key), "--json"])
    assert good.exit_code == 0, good.output
    assert json.loads(good.stdout)["passed"] is True
    bad = runner.invoke(app, ["verify", ref, "--key", str(key_dirs[1].public_key)])
    assert bad.exit_code == 1
    assert "check 'signature' failed" in bad.output and "no transparency log" in bad.output


def test_cli_keys_generate_encrypts_and_never_overwrites(tmp_path, monkeypatch):
    monkeypatch.setenv("SHIPRAIL_COSIGN_PASSWORD", PASSWORD)
    require_tools("cosign")
    runner = CliRunner()
    made = runner.invoke(app, ["keys", "generate", "--dir", str(tmp_path / "k")])
    assert made.exit_code == 0, made.output
    assert made.stdout.strip() == str(tmp_path / "k" / "cosign.pub")
    assert PASSWORD not in made.output
    private = (tmp_path / "k" / "cosign.key").read_text()
    assert "ENCRYPTED" in private.splitlines()[0]
    again = runner.invoke(app, ["keys", "generate", "--dir", str(tmp_path / "k")])
    assert again.exit_code == 2 and "already exists" in again.output
