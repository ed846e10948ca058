"""The scripts the CD workflows run: scripts/bump-image-digest.sh (the GitOps promotion: pin a
digest in a values file, commit, push) and scripts/smoke.sh (a deployed service answers; a
published image verifies with plain cosign)."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from conftest import require_tools

REPO = Path(__file__).resolve().parents[2]
BUMP = REPO / "scripts" / "bump-image-digest.sh"
SMOKE = REPO / "scripts" / "smoke.sh"
OLD = "sha256:" + "4b2f" * 16
NEW = "sha256:" + "0123456789abcdef" * 4
VALUES = f"""\
# prod on EKS: pinned by digest
image:
  repository: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/workorders  # ECR
  digest: "{OLD}"
  pullPolicy: Always
resources:
  limits:
    digest: keep-me
"""


def run(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None):
    return subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_scripts_are_shellcheck_clean() -> None:
    require_tools("shellcheck")
    result = run("shellcheck", BUMP, SMOKE)
    assert result.returncode == 0, result.stdout


# -- bump-image-digest.sh --------------------------------------------------------------------


def test_bump_rewrites_only_the_image_digest(tmp_path: Path) -> None:
    values = tmp_path / "values-eks-prod.yaml"
    values.write_text(VALUES)
    values.chmod(0o640)
    result = run(BUMP, values, f"123456789012.dkr.ecr.eu-west-1.amazonaws.com/workorders@{NEW}")
    assert result.returncode == 0, result.stderr
    assert values.read_text() == VALUES.replace(OLD, NEW)
    assert yaml.safe_load(values.read_text())["image"]["digest"] == NEW
    assert values.stat().st_mode & 0o777 == 0o640
    assert "image.digest " + NEW in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["values-eks-prod.yaml"]


def test_bump_is_idempotent_and_adds_a_missing_digest(tmp_path: Path) -> None:
    values = tmp_path / "values-aks-dev.yaml"
    values.write_text("environment: dev\nimage:\n    repository: x.azurecr.io/w\n    tag: t\n")
    assert run(BUMP, values, NEW).returncode == 0
    assert values.read_text() == (
        f'environment: dev\nimage:\n    digest: "{NEW}"\n    repository: x.azurecr.io/w\n'
        "    tag: t\n"
    )
    again = run(BUMP, values, NEW)
    assert again.returncode == 0 and "already pinned" in again.stderr
    assert yaml.safe_load(values.read_text())["image"] == {
        "digest": NEW,
        "repository": "x.azurecr.io/w",
        "tag": "t",
    }


@pytest.mark.parametrize(
    ("content", "digest", "message"),
    [
        (VALUES, "sha256:abc", "is not a digest"),
        (VALUES, "latest", "is not a digest"),
        ("environment: dev\n", NEW, "no top-level 'image:' block"),
        ("images:\n  digest: x\n", NEW, "no top-level 'image:' block"),
    ],
)
def test_bump_refuses_bad_input_with_exit_2(
    tmp_path: Path, content: str, digest: str, message: str
) -> None:
    values = tmp_path / "values.yaml"
    values.write_text(content)
    result = run(BUMP, values, digest)
    assert result.returncode == 2 and message in result.stderr
    assert values.read_text() == content
    assert run(BUMP, tmp_path / "missing.yaml", NEW).returncode == 2
    assert run(BUMP, values).returncode == 2


def git(repo: Path, *args: str) -> str:
    result = run("git", "-C", repo, *args)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


IDENTITY = {
    "GIT_AUTHOR_NAME": "ci",
    "GIT_AUTHOR_EMAIL": "ci@example.org",
    "GIT_COMMITTER_NAME": "ci",
    "GIT_COMMITTER_EMAIL": "ci@example.org",
}


@pytest.fixture
def remote(tmp_path: Path) -> tuple[Path, Path]:
    """A bare `origin` with a release branch holding the values file, and a clone of it."""
    require_tools("git")
    origin, seed, clone = tmp_path / "origin.git", tmp_path / "seed", tmp_path / "clone"
    git(tmp_path, "init", "-q", "--bare", str(origin))
    git(tmp_path, "init", "-q", "-b", "release/0.1", str(seed))
    (seed / "helm").mkdir()
    (seed / "helm" / "values-eks-stage.yaml").write_text(VALUES)
    git(seed, "add", ".")
    run("git", "-C", seed, "commit", "-q", "-m", "values", env=IDENTITY)
    git(seed, "push", "-q", str(origin), "release/0.1")
    git(tmp_path, "clone", "-q", "--depth=1", "-b", "release/0.1", f"file://{origin}", str(clone))
    return origin, clone


def test_bump_push_commits_the_file_alone_and_pushes_it(remote: tuple[Path, Path]) -> None:
    origin, clone = remote
    (clone / "unrelated.txt").write_text("not committed\n")
    result = run(
        BUMP, "--push", "release/0.1", "helm/values-eks-stage.yaml", NEW, cwd=clone, env=IDENTITY
    )
    assert result.returncode == 0, result.stderr
    assert "pushed" in result.stderr
    pushed = git(origin, "show", "release/0.1:helm/values-eks-stage.yaml")
    assert pushed == VALUES.replace(OLD, NEW).rstrip("\n")
    assert git(origin, "show", "--name-only", "--format=%s", "release/0.1").splitlines() == [
        f"helm/values-eks-stage.yaml: image.digest {NEW[:19]}",
        "",
        "helm/values-eks-stage.yaml",
    ]
    # pinned already: nothing to commit, nothing pushed
    before = git(origin, "rev-parse", "release/0.1")
    again = run(
        BUMP, "--push", "release/0.1", "helm/values-eks-stage.yaml", NEW, cwd=clone, env=IDENTITY
    )
    assert again.returncode == 0 and "already pinned" in again.stderr
    assert git(origin, "rev-parse", "release/0.1") == before


def test_bump_push_lands_on_the_branch_tip_when_it_moved(
    remote: tuple[Path, Path], tmp_path: Path
) -> None:
    origin, clone = remote
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", "-b", "release/0.1", f"file://{origin}", str(other))
    (other / "NOTES").write_text("a change pushed meanwhile\n")
    git(other, "add", "NOTES")
    run("git", "-C", other, "commit", "-q", "-m", "meanwhile", env=IDENTITY)
    git(other, "push", "-q", "origin", "release/0.1")
    result = run(
        BUMP, "--push", "release/0.1", "helm/values-eks-stage.yaml", NEW, cwd=clone, env=IDENTITY
    )
    assert result.returncode == 0, result.stderr
    log = git(origin, "log", "--format=%s", "release/0.1").splitlines()
    assert log[:2] == [f"helm/values-eks-stage.yaml: image.digest {NEW[:19]}", "meanwhile"]


def test_bump_push_needs_a_branch_and_a_clean_file(remote: tuple[Path, Path]) -> None:
    _origin, clone = remote
    values = clone / "helm" / "values-eks-stage.yaml"
    assert run(BUMP, "--push", "", values, NEW, cwd=clone).returncode == 2
    values.write_text(VALUES + "# edited\n")
    result = run(BUMP, "--push", "release/0.1", "helm/values-eks-stage.yaml", NEW, cwd=clone)
    assert result.returncode == 2 and "uncommitted changes" in result.stderr
    values.write_text(VALUES)
    missing = run(
        BUMP, "--push", "release/9", "helm/values-eks-stage.yaml", NEW, cwd=clone, env=IDENTITY
    )
    assert missing.returncode == 1 and "git fetch of release/9 failed" in missing.stderr


# -- smoke.sh url ----------------------------------------------------------------------------


class Service:
    """A stand-in for workorders: /version reports ``sha``, the other paths ``statuses``."""

    def __init__(self) -> None:
        self.sha = "0123456789ab"
        self.statuses = {"/health": 200, "/ready": 200, "/api/v1/workorders": 200}
        self.requests: list[str] = []


@pytest.fixture
def service() -> Iterator[tuple[Service, str]]:
    state = Service()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests.append(self.path)
            if self.path == "/version":
                status, body = 200, {"version": "1.0.0", "git_sha": state.sha, "env": "dev"}
            elif self.path == "/health":
                status, body = state.statuses[self.path], {"status": "ok"}
            else:
                status, body = state.statuses.get(self.path, 404), {}
            data = json.dumps(body, separators=(",", ":")).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def smoke(*args: str, **env: str):
    require_tools("curl")
    return run(SMOKE, *args, env={"SMOKE_INTERVAL": "1", "SMOKE_TIMEOUT": "3", **env})


def test_smoke_url_waits_for_the_commit_then_checks_the_endpoints(service) -> None:
    state, url = service
    commit = state.sha + "cd" * 14
    result = smoke("url", url + "/", commit)
    assert result.returncode == 0, result.stderr
    assert state.requests[0] == "/version"
    assert state.requests[-3:] == ["/health", "/ready", "/api/v1/workorders"]
    assert "passed (commit 0123456789ab)" in result.stderr
    assert smoke("url", url).returncode == 0  # no commit: /health answering is enough


def test_smoke_url_fails_when_the_commit_never_arrives(service) -> None:
    state, url = service
    result = smoke("url", url, "fedcba9876543210")
    assert result.returncode == 1
    assert "did not serve commit fedcba987654 within 3s (it serves 0123456789ab)" in result.stderr
    assert "/ready" not in state.requests


def test_smoke_url_fails_on_a_failing_endpoint(service) -> None:
    state, url = service
    state.statuses["/ready"] = 503
    result = smoke("url", url, state.sha)
    assert result.returncode == 1 and "GET /ready: HTTP 503, expected 200" in result.stderr


def test_smoke_url_usage(service) -> None:
    _state, url = service
    assert smoke("url").returncode == 2
    assert smoke("url", "example.com").returncode == 2
    assert smoke("url", url, "not-a-sha").returncode == 2
    assert smoke("url", url, SMOKE_TIMEOUT="soon").returncode == 2
    assert smoke("nothing").returncode == 2


# -- smoke.sh image --------------------------------------------------------------------------

FAKE_COSIGN = """#!/usr/bin/env bash
# records its arguments (and, for login, its stdin and DOCKER_CONFIG) one call a line
{ printf '%s ' "$@"; [ "$1" = login ] && printf 'stdin=%s config=%s' "$(cat)" "$DOCKER_CONFIG"
  echo; } >> "$COSIGN_CALLS"
[[ " $* " != *" --type ${FAIL_TYPE:-none} "* ]]
"""


@pytest.fixture
def cosign(tmp_path: Path) -> tuple[Path, Path]:
    fake, calls = tmp_path / "cosign", tmp_path / "calls"
    fake.write_text(FAKE_COSIGN)
    fake.chmod(0o755)
    return fake, calls


REFERENCE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/workorders@" + NEW
#: what the registry login hands over (a stand-in: the fake cosign only records it)
TOKEN = "registry-token-" + "x" * 8
CREDENTIALS = {"SHIPRAIL_REGISTRY_USERNAME": "AWS", "SHIPRAIL_REGISTRY_PASSWORD": TOKEN}
NO_CREDENTIALS = dict.fromkeys(CREDENTIALS, "")
GITHUB = {
    "GITHUB_WORKFLOW_REF": "shiprail/shiprail/.github/workflows/ci.yml@refs/heads/main",
    "GITHUB_SHA": "ab12" * 10,
}


def test_smoke_image_verifies_signature_and_attestations_for_the_workflow(cosign) -> None:
    fake, calls = cosign
    env = {
        **GITHUB,
        "COSIGN": str(fake),
        "COSIGN_CALLS": str(calls),
        **CREDENTIALS,
    }
    result = run(SMOKE, "image", REFERENCE, env=env)
    assert result.returncode == 0, result.stderr
    lines = calls.read_text().splitlines()
    login = lines[0].split()
    assert login[:5] == ["login", REFERENCE.split("/")[0], "-u", "AWS", "--password-stdin"]
    assert f"stdin={TOKEN}" in lines[0]
    config = lines[0].split("config=")[1]
    assert not Path(config).exists()  # the private Docker configuration is gone
    identity = (
        "--certificate-identity https://github.com/shiprail/shiprail/.github/workflows/ci.yml"
        "@refs/heads/main --certificate-oidc-issuer https://token.actions.githubusercontent.com"
        f" --certificate-github-workflow-sha {GITHUB['GITHUB_SHA']} {REFERENCE}"
    )
    assert [line.strip() for line in lines[1:]] == [
        f"verify {identity}",
        f"verify-attestation --type slsaprovenance1 {identity}",
        f"verify-attestation --type cyclonedx {identity}",
        f"verify-attestation --type vuln {identity}",
    ]
    assert TOKEN not in result.stderr + result.stdout


def test_smoke_image_fails_on_a_missing_attestation(cosign) -> None:
    fake, calls = cosign
    env = {
        **GITHUB,
        "COSIGN": str(fake),
        "COSIGN_CALLS": str(calls),
        "FAIL_TYPE": "cyclonedx",
        **NO_CREDENTIALS,
    }
    result = run(SMOKE, "image", REFERENCE, env=env)
    assert result.returncode == 1
    assert "verify-attestation --type cyclonedx" in result.stderr
    assert "login" not in calls.read_text()  # no credentials, no login


def test_smoke_image_usage(cosign) -> None:
    fake, calls = cosign
    env = {"COSIGN": str(fake), "COSIGN_CALLS": str(calls)}
    no_github = {k: "" for k in GITHUB}
    assert run(SMOKE, "image", "registry/workorders:1.0.0", env=env).returncode == 2
    assert run(SMOKE, "image", REFERENCE, env={**env, **no_github}).returncode == 2
