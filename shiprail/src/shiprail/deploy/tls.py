"""Certificates for the edge proxy: the user's files, or a local CA for the demo.

The local CA lives in ``<state>/edge/ca`` (``ca.pem`` is what a browser or ``curl --cacert``
trusts); each environment gets a leaf certificate for its hostname, ``localhost`` and
127.0.0.1, valid 90 days (Mozilla's recommendation; its intermediate profile allows at most 366)
and reissued when the hostname changes or expiry is within 30 days.
Keys are made by ``openssl`` (ECDSA P-256) and never leave the state directory.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from shiprail import _subprocess
from shiprail.deploy.settings import BasicAuth, TlsConfig
from shiprail.errors import ConfigError

OPENSSL_HINT = "apt-get install -y openssl"
LEAF_DAYS = 90
RENEW_BEFORE = timedelta(days=30)


@dataclass(frozen=True)
class TlsMaterial:
    cert_pem: bytes
    key_pem: bytes = b""

    def __repr__(self) -> str:  # the key must never be printed
        return "TlsMaterial(cert_pem=..., key_pem=<hidden>)"


def _openssl(*args: str, input_text: str | None = None) -> None:
    _subprocess.run(
        ["openssl", *args], timeout=60, input_text=input_text, install_hint=OPENSSL_HINT
    )


def ensure_ca(ca_dir: Path) -> Path:
    """Create the local CA once; returns the path of ``ca.pem``."""
    ca_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(ca_dir, 0o700)
    cert, key = ca_dir / "ca.pem", ca_dir / "ca.key"
    if cert.is_file() and key.is_file():
        return cert
    _openssl(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", str(key), "-out", str(cert), "-days", "3650",
        "-subj", "/CN=shiprail local CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    )  # fmt: skip
    os.chmod(key, 0o600)
    return cert


def issue_leaf(ca_dir: Path, out_dir: Path, hostname: str) -> TlsMaterial:
    """A leaf certificate for ``hostname`` signed by the local CA (reused while valid)."""
    ca_cert = ensure_ca(ca_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(out_dir, 0o700)
    cert, key, meta = out_dir / "cert.pem", out_dir / "key.pem", out_dir / "meta.json"
    if cert.is_file() and key.is_file() and meta.is_file():
        info = json.loads(meta.read_text())
        expires = datetime.fromisoformat(info["expires"])
        if info.get("hostname") == hostname and expires - datetime.now(UTC) > RENEW_BEFORE:
            return TlsMaterial(cert.read_bytes(), key.read_bytes())
    csr, ext = out_dir / "leaf.csr", out_dir / "leaf.ext"
    names = dict.fromkeys([hostname, "localhost"])
    san = ",".join([*(f"DNS:{n}" for n in names), "IP:127.0.0.1"])
    ext.write_text(
        f"subjectAltName={san}\nextendedKeyUsage=serverAuth\n"
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
    )
    _openssl(
        "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", str(key), "-out", str(csr), "-subj", f"/CN={hostname}",
    )  # fmt: skip
    _openssl(
        "x509", "-req", "-in", str(csr), "-CA", str(ca_cert), "-CAkey", str(ca_dir / "ca.key"),
        "-CAcreateserial", "-days", str(LEAF_DAYS), "-sha256", "-extfile", str(ext),
        "-out", str(cert),
    )  # fmt: skip
    os.chmod(key, 0o600)
    csr.unlink()
    expires = datetime.now(UTC) + timedelta(days=LEAF_DAYS)
    meta.write_text(json.dumps({"hostname": hostname, "expires": expires.isoformat()}))
    return TlsMaterial(cert.read_bytes(), key.read_bytes())


def tls_material(config: TlsConfig, state: Path, environment: str, hostname: str) -> TlsMaterial:
    """The certificate and key for an environment's edge proxy."""
    if config.cert_file and config.key_file:
        try:
            return TlsMaterial(
                Path(config.cert_file).read_bytes(), Path(config.key_file).read_bytes()
            )
        except OSError as exc:
            raise ConfigError(
                f"environments.{environment}.edge.tls: cannot read {exc.filename}: {exc.strerror}"
            ) from None
    return issue_leaf(state / "edge" / "ca", state / "edge" / environment / "tls", hostname)


def htpasswd_content(auth: BasicAuth, environment: str) -> bytes:
    """The htpasswd file for basic auth; generated (user ``admin``) when allowed and missing."""
    path = Path(auth.htpasswd_file)
    if path.is_file():
        return path.read_bytes()
    if not auth.generate:
        raise ConfigError(
            f"environments.{environment}.edge.basic_auth: {path} does not exist",
            hint="create it: printf 'admin:%s\\n' \"$(openssl passwd -apr1)\" > " + str(path),
        )
    import secrets

    password = secrets.token_urlsafe(18)
    result = _subprocess.run(
        ["openssl", "passwd", "-apr1", "-stdin"], input_text=password + "\n", timeout=30
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    password_file = path.with_name(path.name + ".password")
    password_file.touch(mode=0o600)
    password_file.write_text(f"admin:{password}\n")
    path.write_text(f"admin:{result.stdout.strip()}\n")
    os.chmod(path, 0o600)
    return path.read_bytes()
