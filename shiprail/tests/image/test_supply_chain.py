"""The supply chain end to end, with the real Docker Engine, registry, Trivy and cosign: build,
scan, publish (sign and attest), then deploy through the release engine, which verifies before
any container starts.

The service image carries two real advisories (a Debian one from the test Trivy database and
a Python one from the OSV data), so the happy path runs under waivers with an expiry, as a
team would ship a reviewed risk. Each refusal (unsigned, tampered tag, wrong key, provenance
of another commit, a blocking advisory once its waiver expired) is recorded in the ledger and
leaves the previous release serving.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from deploy.test_docker_integration import Env

from shiprail.config import ShiprailConfig
from shiprail.deploy.engine import Engine
from shiprail.deploy.platform import docker_platform
from shiprail.errors import Refused
from shiprail.image import keys
from shiprail.image.publish import image_commit, publish, push
from shiprail.image.registry import LocalRegistry
from shiprail.image.scan import load_context, scan_image
from shiprail.image.trust import RegistryTrust

from .conftest import REPO, write_config
from conftest import require_tools

pytestmark = pytest.mark.docker

PASSWORD = "proof-" + uuid.uuid4().hex
TODAY = dt.date.today()
WAIVED = ("CVE-2023-45853", "SHIPRAIL-TEST-2026-0001")  # zlib (Debian), uvicorn (Python)


def waivers(expires: dt.date) -> list[dict[str, Any]]:
    return [
        {"rule": rule, "reason": "reviewed: not reachable in this service", "owner": "team-a",
         "expires": expires.isoformat()}
        for rule in WAIVED
    ]  # fmt: skip


class Chain:
    """One environment that verifies, its registry, keys and scan configuration."""

    def __init__(self, tmp: Path, client: Any, trivy_db: Path) -> None:
        require_tools("trivy", "cosign", "docker-registry", "htpasswd")
        self.env = Env(tmp / "env", client)
        name = self.env.name
        cfg = self.env.config.environments[name].model_copy(
            update={"verify": True, "registry": "local"}
        )
        self.env.config = ShiprailConfig(environments={name: cfg})
        self.client = client
        self.root = tmp / "root"
        self.config = write_config(
            self.root, trivy_db_dir=trivy_db, waivers=waivers(TODAY + dt.timedelta(days=30))
        )
        self.registry = LocalRegistry(self.env.state)
        self.registry.up()
        self.access = self.registry.access()
        self.good = keys.generate(tmp / "keys-good", PASSWORD)
        self.wrong = keys.generate(tmp / "keys-wrong", PASSWORD)
        self.timings: dict[str, float] = {}

    def trust(self, key: Path | None = None) -> RegistryTrust:
        return RegistryTrust(
            root=REPO,
            state=self.env.state,
            keys=[key or self.good.public_key],
            client=lambda: self.client,
            scan=lambda: load_context(self.config),
        )

    def engine(self, key: Path | None = None) -> Engine:
        return Engine(
            self.env.config,
            self.env.ledger,
            docker_platform(self.env.state, self.env.state, trust=self.trust(key)),
            file_sd_dir=self.env.state / "targets",
            root=REPO,
            actor="proof",
            say=self.env.log.append,
        )

    def expire_waivers(self) -> None:
        path = self.root / ".shiprail" / "waivers.yaml"
        path.write_text(yaml.safe_dump({"waivers": waivers(TODAY - dt.timedelta(days=1))}))

    def publish(self, image: str) -> str:
        """Scan (real Trivy and OSV) and publish; the pinned reference."""
        ctx = load_context(self.config)
        result = scan_image(self.client, image, ctx)
        assert {i.finding.rule.id for i in result.outcome.decision.items} >= set(WAIVED)
        assert not result.outcome.decision.blocking, "waived for now"
        signing = keys.signing_key(self.good.private_key, PASSWORD)
        published = publish(self.client, image, self.access, signing, root=REPO, ctx=ctx)
        return published.pushed.reference

    def commit_of(self, image: str) -> str:
        return image_commit(self.client, image, REPO)[0]

    def served(self) -> str:
        return self.env.served_version()

    def close(self) -> None:
        self.env.cleanup()
        self.registry.down(purge=True)


@pytest.fixture(scope="module")
def chain(
    tmp_path_factory: pytest.TempPathFactory, docker_client: Any, trivy_db: Path
) -> Iterator[Chain]:
    made = Chain(tmp_path_factory.mktemp("chain"), docker_client, trivy_db)
    try:
        yield made
    finally:
        made.close()


@pytest.fixture(scope="module")
def live_v1(chain: Chain) -> str:
    """v1 published and deployed: the release every refusal must leave serving."""
    v1 = chain.env.images["v1"]
    reference = chain.publish(v1)
    release = chain.engine().deploy(chain.env.name, v1, commit=chain.commit_of(v1))
    assert release.image == reference and release.status == "live"
    return release.id


def assert_refused(chain: Chain, live: str, check: str, call: Any) -> None:
    before = len(chain.env.ledger.attempts(chain.env.name, limit=1000))
    with pytest.raises(Refused) as caught:
        call()
    assert caught.value.exit_code == 1
    assert f"check '{check}' failed" in caught.value.message, caught.value.message
    assert f"{live} is still serving" in caught.value.message
    attempts = chain.env.ledger.attempts(chain.env.name, limit=1000)
    assert len(attempts) == before + 1 and attempts[0].status == "refused"
    assert check in (attempts[0].reason or "")
    live_now = chain.env.ledger.live_release(chain.env.name)
    assert live_now is not None and live_now.id == live
    assert chain.served() == "1.0.0-it"


def test_happy_path_records_digest_commit_sbom_and_verification(chain: Chain, live_v1: str) -> None:
    release = chain.env.ledger.release(live_v1)
    assert release is not None
    assert release.image.startswith(f"{chain.access.host}/workorders@sha256:")
    assert release.git_sha == chain.commit_of(chain.env.images["v1"])
    assert release.sbom_digest is not None and release.sbom_digest.startswith("sha256:")
    assert release.verification is not None
    assert release.verification.startswith(
        "verified (digest, signature, provenance, source, commit, scan)"
    )
    assert chain.served() == "1.0.0-it"
    status = chain.engine().status(chain.env.name)[0]
    assert "verified" in status.line() and "SBOM sha256:" in status.line()


def test_unsigned_image_is_refused(chain: Chain, live_v1: str) -> None:
    image = chain.env.images["v3"]
    pushed = push(
        chain.client, image, chain.access, repository="workorders", tags=("unsigned",), commit="x"
    )
    by_tag = f"{pushed.repository}:unsigned"
    assert_refused(
        chain,
        live_v1,
        "signature",
        lambda: chain.engine().deploy(chain.env.name, by_tag, commit=chain.commit_of(image)),
    )
    assert chain.env.ledger.releases(chain.env.name)[0].status == "refused"


def test_tampered_tag_is_refused(chain: Chain, live_v1: str) -> None:
    v2 = chain.env.images["v2"]
    reference = chain.publish(v2)
    tag = f"tampered-{uuid.uuid4().hex[:6]}"
    push(chain.client, v2, chain.access, repository="workorders", tags=(tag,), commit="x")
    push(
        chain.client,
        chain.env.images["errors"],
        chain.access,
        repository="workorders",
        tags=(tag,),
        commit="x",
    )
    by_tag = f"{reference.split('@')[0]}:{tag}"
    assert_refused(
        chain,
        live_v1,
        "signature",
        lambda: chain.engine().deploy(chain.env.name, by_tag, commit=chain.commit_of(v2)),
    )


def test_wrong_key_is_refused(chain: Chain, live_v1: str) -> None:
    v2 = chain.env.images["v2"]
    engine = chain.engine(chain.wrong.public_key)
    assert_refused(
        chain,
        live_v1,
        "signature",
        lambda: engine.deploy(chain.env.name, v2, commit=chain.commit_of(v2)),
    )


def test_provenance_for_another_commit_is_refused(chain: Chain, live_v1: str) -> None:
    v2 = chain.env.images["v2"]
    first = subprocess.run(
        ["git", "-C", str(REPO), "rev-list", "--max-parents=0", "HEAD"],
        check=True, capture_output=True, text=True,
    ).stdout.split()[0]  # fmt: skip
    assert first != chain.commit_of(v2)
    assert_refused(
        chain, live_v1, "commit", lambda: chain.engine().deploy(chain.env.name, v2, commit=first)
    )


def test_verified_v2_then_rollback_reverifies_and_an_expired_waiver_refuses(
    chain: Chain, live_v1: str
) -> None:
    v2 = chain.env.images["v2"]
    engine = chain.engine()
    v2_release = engine.deploy(chain.env.name, v2, commit=chain.commit_of(v2))
    assert v2_release.status == "live" and chain.served() == "2.0.0-it"
    back = engine.rollback(chain.env.name, to=live_v1)
    assert back.id == live_v1 and chain.served() == "1.0.0-it"
    assert any("admitted" in line and "verified" in line for line in chain.env.log)
    chain.expire_waivers()
    assert_refused(
        chain, live_v1, "scan", lambda: engine.rollback(chain.env.name, to=v2_release.id)
    )
    refusal = chain.env.ledger.attempts(chain.env.name)[0]
    assert refusal.action == "rollback" and WAIVED[0] in (refusal.reason or "")
    assert "waiver expired" in (refusal.reason or "")
