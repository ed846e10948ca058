"""Certificates for every component, signed by the project's local CA.

The CA is the one ``deploy.tls`` keeps for the edge proxy and the local registry
(``<state>/edge/ca``), so one ``ca.pem`` is trusted for everything shiprail runs locally. Its
other leaves carry only the serverAuth usage, and the API server accepts a client certificate
only with clientAuth, so an edge certificate can never log in to the cluster.

Identities follow the Kubernetes conventions the built-in RBAC roles and the Node authorizer
expect: ``system:node:<name>`` in group ``system:nodes`` for the kubelet,
``system:kube-controller-manager``, ``system:kube-scheduler``, ``system:kube-proxy``, and an
administrator in ``system:masters``. Keys are ECDSA P-256 (the service-account signing key is
RSA, the algorithm every token verifier accepts); they never leave ``<state>/k8s/pki``
(mode 0700). A leaf is reissued when its names change or it expires within 30 days.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from shiprail.deploy.tls import ensure_ca

LEAF_DAYS = 90
RENEW_BEFORE = timedelta(days=30)


@dataclass(frozen=True)
class CertSpec:
    """One leaf: its file stem, subject, usages and subject alternative names."""

    name: str
    common_name: str
    organization: str | None = None
    client: bool = False
    server: bool = False
    dns: tuple[str, ...] = ()
    ips: tuple[str, ...] = ()

    def fingerprint(self) -> str:
        return hashlib.sha256(repr(self).encode()).hexdigest()


@dataclass(frozen=True)
class Pki:
    """The paths of the CA and of issued leaves (``<name>.pem`` / ``<name>.key``)."""

    directory: Path
    ca_dir: Path
    issued: dict[str, CertSpec] = field(default_factory=dict, compare=False)

    @property
    def ca_cert(self) -> Path:
        return self.ca_dir / "ca.pem"

    @property
    def ca_key(self) -> Path:
        return self.ca_dir / "ca.key"

    def cert(self, name: str) -> Path:
        return self.directory / f"{name}.pem"

    def key(self, name: str) -> Path:
        return self.directory / f"{name}.key"

    @property
    def sa_key(self) -> Path:
        return self.directory / "service-account.key"

    @property
    def sa_pub(self) -> Path:
        return self.directory / "service-account.pub"


def cluster_specs(node: str, node_ip: str, service_ip: str) -> list[CertSpec]:
    """Every leaf the cluster needs, named after the component that presents it."""
    api_dns = (
        "localhost",
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local",
    )
    return [
        CertSpec(
            "kube-apiserver",
            "kube-apiserver",
            server=True,
            dns=api_dns,
            ips=("127.0.0.1", service_ip, node_ip),
        ),
        CertSpec(
            "apiserver-kubelet-client",
            "kube-apiserver-kubelet-client",
            "system:masters",
            client=True,
        ),
        CertSpec("admin", "shiprail-admin", "system:masters", client=True),
        CertSpec("kube-controller-manager", "system:kube-controller-manager", client=True),
        CertSpec("kube-scheduler", "system:kube-scheduler", client=True),
        CertSpec("kube-proxy", "system:kube-proxy", client=True),
        CertSpec("kubelet-client", f"system:node:{node}", "system:nodes", client=True),
        CertSpec(
            "kubelet-serving",
            node,
            server=True,
            dns=(node, "localhost"),
            ips=(node_ip, "127.0.0.1"),
        ),
    ]


def ensure_pki(directory: Path, ca_dir: Path, specs: list[CertSpec]) -> Pki:
    """Create the CA (once), the service-account key pair (once) and every leaf (when new,
    changed or near expiry)."""
    ensure_ca(ca_dir)
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    pki = Pki(directory, ca_dir)
    ca_cert = x509.load_pem_x509_certificate(pki.ca_cert.read_bytes())
    ca_key = serialization.load_pem_private_key(pki.ca_key.read_bytes(), password=None)
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise TypeError(f"{pki.ca_key}: unsupported CA key type")
    for spec in specs:
        if not _current(pki, spec):
            _issue(pki, spec, ca_cert, ca_key)
    _ensure_service_account_keys(pki)
    return pki


def _current(pki: Pki, spec: CertSpec) -> bool:
    """True when the leaf exists, was issued for this very spec and is not near expiry."""
    meta = pki.directory / f"{spec.name}.json"
    if not (pki.cert(spec.name).is_file() and pki.key(spec.name).is_file() and meta.is_file()):
        return False
    info = json.loads(meta.read_text())
    expires = datetime.fromisoformat(info["expires"])
    return bool(info["spec"] == spec.fingerprint() and expires - datetime.now(UTC) > RENEW_BEFORE)


def _issue(
    pki: Pki,
    spec: CertSpec,
    ca_cert: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey,
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, spec.common_name)]
    if spec.organization:
        attributes.insert(0, x509.NameAttribute(NameOID.ORGANIZATION_NAME, spec.organization))
    now = datetime.now(UTC)
    usages = [ExtendedKeyUsageOID.CLIENT_AUTH] if spec.client else []
    usages += [ExtendedKeyUsageOID.SERVER_AUTH] if spec.server else []
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name(attributes))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=LEAF_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False),
            critical=True,
        )
    )
    names: list[x509.GeneralName] = [x509.DNSName(n) for n in spec.dns]
    names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in dict.fromkeys(spec.ips)]
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    _write_key(pki.key(spec.name), key)
    pki.cert(spec.name).write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    expires = now + timedelta(days=LEAF_DAYS)
    meta = {"spec": spec.fingerprint(), "expires": expires.isoformat()}
    (pki.directory / f"{spec.name}.json").write_text(json.dumps(meta))


def _ensure_service_account_keys(pki: Pki) -> None:
    """The key pair that signs and verifies service-account tokens; kept across restarts so
    tokens already handed to pods stay valid."""
    if pki.sa_key.is_file() and pki.sa_pub.is_file():
        return
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    _write_key(pki.sa_key, key)
    pki.sa_pub.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> None:
    path.touch(mode=0o600)
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def write_kubeconfig(path: Path, pki: Pki, user: str, server: str) -> Path:
    """A kubeconfig for ``user`` (a leaf name) that trusts the CA, with the credentials
    referenced by path (never copied, so the key stays in pki/ with mode 0600)."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "shiprail-local",
                "cluster": {"server": server, "certificate-authority": str(pki.ca_cert)},
            },
        ],
        "users": [
            {
                "name": user,
                "user": {
                    "client-certificate": str(pki.cert(user)),
                    "client-key": str(pki.key(user)),
                },
            },
        ],
        "contexts": [
            {"name": "shiprail-local", "context": {"cluster": "shiprail-local", "user": user}}
        ],
        "current-context": "shiprail-local",
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(config, indent=2) + "\n"
    if not path.is_file() or path.read_text() != text:  # unchanged: leave watchers be
        path.touch(mode=0o600)
        path.write_text(text)
    return path
