"""The parts of signing that need no registry: passphrases, provenance, tags, references."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path

import pytest

from shiprail import _subprocess
from shiprail.errors import UsageError
from shiprail.image import cosign, provenance
from shiprail.image.publish import release_tags
from shiprail.image.registry import RegistryAccess
from shiprail.image.sign import Signed, attest_sbom, sign, sign_and_attest
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


# -- the cosign argument lists, keyless (CI) and with a key ---------------------------------

DIGEST_REF = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/workorders@sha256:" + "a" * 64
CLOUD = RegistryAccess("123456789012.dkr.ecr.eu-west-1.amazonaws.com", "AWS", "token")


class RecordingRunner:
    """Stands in for ``cosign.run``: records each call and the predicate it would attach."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[str], RegistryAccess | None, str]] = []
        self.predicates: list[dict] = []

    def __call__(self, args, *, access=None, password=""):
        self.calls.append((list(args), access, password))
        for arg in args:
            if arg.startswith("--predicate="):
                self.predicates.append(json.loads(Path(arg.split("=", 1)[1]).read_text()))
        return _subprocess.Completed(tuple(args), 0, "", "")


@pytest.fixture
def cyclonedx(tmp_path) -> Path:
    sbom = tmp_path / "sbom.cdx.json"
    sbom.write_text('{"bomFormat": "CycloneDX", "specVersion": "1.6"}')
    return sbom


def signed_with(signer, sbom: Path) -> tuple[RecordingRunner, Signed]:
    runner = RecordingRunner()
    signed = sign_and_attest(
        DIGEST_REF, signer, CLOUD, provenance={"p": 1}, sbom=sbom, scan={"s": 2}, run=runner
    )
    return runner, signed


def test_keyless_signs_and_attests_without_a_key_and_with_the_transparency_log(cyclonedx):
    runner, signed = signed_with(cosign.KEYLESS, cyclonedx)
    args = [call[0] for call in runner.calls]
    assert args[0] == ["sign", "--yes", DIGEST_REF]
    assert [a[0] for a in args[1:]] == ["attest"] * 3
    assert [a[1] for a in args[1:]] == [
        f"--type={t}" for t in ("slsaprovenance1", "cyclonedx", "vuln")
    ]
    assert all(a[2].startswith("--predicate=") and a[3:] == ["--yes", DIGEST_REF] for a in args[1:])
    assert args[2][2] == f"--predicate={cyclonedx}"
    assert runner.predicates == [
        {"p": 1},
        {"bomFormat": "CycloneDX", "specVersion": "1.6"},
        {"s": 2},
    ]
    flat = [arg for a in args for arg in a]
    assert not [arg for arg in flat if arg.startswith(("--key", "--tlog-upload"))]
    assert all(access is CLOUD and password == "" for _args, access, password in runner.calls)
    assert signed.attestations == ("slsaprovenance1", "cyclonedx", "vuln")
    assert signed.note == cosign.KEYLESS_NOTE


def test_key_signing_keeps_its_arguments_and_stays_off_the_transparency_log(cyclonedx):
    runner, signed = signed_with(KEY, cyclonedx)
    sign_args, provenance_args = runner.calls[0][0], runner.calls[1][0]
    assert sign_args == ["sign", f"--key={KEY.path}", "--tlog-upload=false", "--yes", DIGEST_REF]
    assert provenance_args[:3] == ["attest", f"--key={KEY.path}", "--type=slsaprovenance1"]
    assert provenance_args[3].startswith("--predicate=")
    assert provenance_args[4:] == ["--tlog-upload=false", "--yes", DIGEST_REF]
    assert all(password == KEY.password for _args, _access, password in runner.calls)
    assert signed.note == cosign.OFFLINE_NOTE


def test_keyless_through_cosign_run_reaches_cosign_with_the_cloud_credentials_only(
    tmp_path, monkeypatch, cyclonedx
):
    """The real ``cosign.run`` against a stand-in ``cosign`` executable (found first, as the
    pinned tools are): no CA flag for a registry the system CAs trust, the registry's
    credentials in a private Docker config, no passphrase."""
    tools = tmp_path / "bin"
    tools.mkdir()
    log = tmp_path / "calls.jsonl"
    fake = tools / "cosign"
    fake.write_text(
        "#!/usr/bin/env python3\n"
        "import json, os, sys\n"
        "config = json.load(open(os.path.join(os.environ['DOCKER_CONFIG'], 'config.json')))\n"
        f"with open({str(log)!r}, 'a') as out:\n"
        "    out.write(json.dumps({'args': sys.argv[1:], 'config': config,\n"
        "                          'password': os.environ.get('COSIGN_PASSWORD')}) + '\\n')\n"
    )
    fake.chmod(0o755)
    monkeypatch.setenv("SHIPRAIL_TOOLS_BIN", str(tools))
    sign_and_attest(DIGEST_REF, cosign.KEYLESS, CLOUD, provenance={"p": 1}, sbom=cyclonedx)
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    assert [c["args"][0] for c in calls] == ["sign", "attest", "attest"]
    assert calls[0]["args"] == ["sign", "--yes", DIGEST_REF]
    assert not [
        a for c in calls for a in c["args"] if a.startswith(("--key", "--tlog", "--registry"))
    ]
    token = base64.b64encode(b"AWS:token").decode()
    assert all(c["config"] == {"auths": {CLOUD.host: {"auth": token}}} for c in calls)
    assert all(c["password"] == "" for c in calls)
