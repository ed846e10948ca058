"""Secrets never leave the places they are kept: a canary in each, then everything is searched.

A copy of this repository gets a random value in every place the platform reads a secret
from: an environment's ``secrets:`` (one ``file:``, one ``env:``), the edge's basic-auth
password, the API token ``make demo`` hashes, the cosign key's passphrase (file and
``SHIPRAIL_COSIGN_PASSWORD``), the local registry's password, the credentials of a remote
registry, and the ledger's database password (a PostgreSQL ledger). A committed source file
holds one more, for the scanners to find. Then the copy runs the demo as ``make demo`` does,
``shiprail scan``, the incident drill, the read commands, and commands that fail (a wrong
passphrase, an unreachable database with ``--debug``, a secret that is not set).

Every artifact is searched for each value and its encodings (base64 at any alignment, with
and without a ``user:`` prefix as in basic auth, hex, URL-quoting): each command's output,
every file under ``.shiprail/``, ``reports/``, ``build/`` and the scan cache (except the files
the values were planted in), the ledger's rows, and the logs and ``docker inspect`` of every
container labelled ``io.shiprail.*``. Secrets are mounted files, so no container's
environment may hold one.

Heavy (it builds, publishes and deploys): it runs under ``SHIPRAIL_REQUIRE_INTEGRATION=1``
(``make test``, CI) and is skipped otherwise.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
from collections.abc import Iterator
from urllib.parse import quote_plus

import pytest
import sqlalchemy as sa
from secrets_canary_run import CanaryRun

from conftest import integration_required, require_tools, unavailable

pytestmark = [pytest.mark.docker, pytest.mark.postgres, pytest.mark.prometheus]


def _value() -> str:
    return "cnry" + secrets.token_hex(14)


def needles(name: str, value: str) -> dict[str, bytes]:
    """``value`` and its encodings; base64 is cut to the characters that depend on ``value``
    alone, so it is found at any offset inside a longer encoded text."""
    raw = value.encode()
    found = {name: raw, f"{name} (hex)": raw.hex().encode()}
    found[f"{name} (url-quoted)"] = quote_plus(value).encode()
    for prefix in (b"", b"admin:", b"shiprail:"):
        for shift in range(3):
            data = b"\0" * shift + prefix + raw
            for alphabet, encode in (
                ("", base64.b64encode),
                (" urlsafe", base64.urlsafe_b64encode),
            ):
                label = f"{name} (base64{alphabet}{', ' + prefix.decode() if prefix else ''})"
                found[f"{label} +{shift}"] = encode(data)[4:-4]
    return found


def hits(artifacts: dict[str, bytes], values: dict[str, str]) -> list[str]:
    """Which artifact holds which value (or encoding); one line each."""
    table: dict[bytes, str] = {}
    for name, value in values.items():
        for label, needle in needles(name, value).items():
            table.setdefault(needle, label)
    pattern = re.compile(b"|".join(re.escape(n) for n in sorted(table, key=len, reverse=True)))
    found = []
    for where, data in artifacts.items():
        labels = sorted({table[m.group(0)] for m in pattern.finditer(data)})
        found += [f"{where}: {label}" for label in labels]
    return found


def test_needles_find_a_value_inside_basic_auth_and_base64() -> None:
    value = _value()
    header = base64.b64encode(f"admin:{value}".encode())
    inside = base64.b64encode(b"xy" + value.encode() + b"z")
    artifacts = {"header": b"Authorization: Basic " + header, "blob": inside, "clean": b"x"}
    found = hits(artifacts, {"planted": value})
    assert {line.split(":")[0] for line in found} == {"header", "blob"}, found


# -- the run --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ledger_url() -> Iterator[str]:
    """A PostgreSQL database of its own, reached with the test server's real password."""
    base = os.environ.get("SHIPRAIL_TEST_POSTGRES_URL")
    if not base:
        unavailable("no PostgreSQL: SHIPRAIL_TEST_POSTGRES_URL unset (scripts/services.sh start)")
    admin_url = sa.engine.make_url(base.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"shiprail_canary_{secrets.token_hex(6)}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, ledger_url: str) -> Iterator[CanaryRun]:
    if not integration_required():
        pytest.skip("heavy (demo, scan, drill): runs with SHIPRAIL_REQUIRE_INTEGRATION=1")
    require_tools("docker-registry", "htpasswd", "openssl", "cosign", "trivy", "prometheus")
    values = {
        name: _value()
        for name in (
            "secret-file",
            "secret-env",
            "edge-password",
            "api-token",
            "cosign-passphrase",
            "cosign-passphrase-env",
            "wrong-passphrase",
            "registry-password",
            "remote-registry-username",
            "remote-registry-password",
            "unreachable-database-password",
            "committed-secret",
        )
    }
    values["ledger-password"] = sa.engine.make_url(ledger_url).password or ""
    canary = CanaryRun(tmp_path_factory.mktemp("canary"), values, ledger_url)
    try:
        canary.prepare()
        canary.run_all()
        yield canary
    finally:
        canary.clean_up()


def test_every_command_ended_as_expected(run: CanaryRun) -> None:
    """The flow really ran (a search through the leftovers of a failed demo proves little)."""
    wrong = {c.name: c for c in run.commands if c.exit_code not in c.expected}
    assert not wrong, "\n\n".join(c.describe() for c in wrong.values())


def test_the_planted_secrets_were_used(run: CanaryRun) -> None:
    """Each value reached where it belongs, so its absence elsewhere means something."""
    token = run.values["api-token"].encode()
    hashes = (run.root / ".shiprail/demo/api-token.sha256").read_text()
    assert hashlib.sha256(token).hexdigest() in hashes
    mounted = run.mounted_secrets()
    assert mounted.get("canary_file") == run.values["secret-file"], sorted(mounted)
    assert mounted.get("canary_env") == run.values["secret-env"], sorted(mounted)
    with sa.create_engine(run.ledger_url).connect() as connection:
        releases = connection.execute(sa.text("SELECT count(*) FROM releases")).scalar_one()
    assert releases >= 1
    # the registry and the key accept nothing but the planted values: publish proves both
    assert run.command("demo").exit_code == 0
    assert run.command("publish with a wrong passphrase").exit_code != 0


def test_no_output_report_file_or_ledger_row_holds_a_secret(run: CanaryRun) -> None:
    artifacts = {**run.outputs(), **run.files(), **run.ledger_rows()}
    assert len(artifacts) > 50, sorted(artifacts)  # the demo's logs, reports, SBOMs, keys ...
    found = hits(artifacts, run.values)
    assert not found, "secrets found:\n" + "\n".join(found)


def test_no_container_log_or_environment_holds_a_secret(run: CanaryRun) -> None:
    containers = run.containers()
    roles = {c["labels"].get("io.shiprail.role") for c in containers.values()}
    assert {"replica", "edge"} <= roles, roles
    artifacts: dict[str, bytes] = {}
    for name, container in containers.items():
        artifacts[f"docker logs {name}"] = container["logs"]
        artifacts[f"docker inspect {name}"] = json.dumps(container["inspect"]).encode()
    found = hits(artifacts, run.values)
    assert not found, "secrets found:\n" + "\n".join(found)
    for name, container in containers.items():
        env = container["inspect"]["Config"].get("Env") or []
        assert not [e for e in env if re.match(r"[A-Z_]*(PASSWORD|TOKEN|SECRET)", e)], (name, env)
