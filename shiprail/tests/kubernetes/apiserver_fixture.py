"""A real kube-apiserver for admission tests: etcd on loopback ports with a data directory
of its own, and kube-apiserver in front of it, started once per session.

Nothing else of a cluster runs (no controller manager, scheduler or kubelet): objects are
stored and admitted, never run. That is all admission needs; the ServiceAccount admission
plugin does need a namespace's ``default`` service account before a Pod is accepted there,
which :meth:`ApiServer.namespace` creates (the controller manager would).

The binaries come from where ``make tools`` puts the Kubernetes build
(``.tools/k8s/<version>/bin``) or from ``PATH``. ``--allow-privileged`` is on, as on managed
clusters, so a privileged container is refused by the policies under test rather than by the
API server's own switch.

Why not the session's local cluster (``k8s_fixture``): the policies deny in every namespace
but ``kube-system``, so applied there they would refuse the images other tests import from
the Docker Engine (rightly outside the allowed registries), and would stay in a developer's
running cluster if a run were cut short; that cluster's API server also refuses privileged
containers itself. This server is private to the admission tests, needs no root, and starts
in seconds.
"""

from __future__ import annotations

import secrets
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml

from shiprail import _subprocess

from conftest import unavailable, wait_until

START_TIMEOUT_SECONDS = 90.0
KUBECTL_TIMEOUT_SECONDS = 60.0


def find_binary(name: str) -> str | None:
    """The pinned build (``.tools/k8s/<version>/bin``, as the local cluster uses), else
    ``PATH`` (etcd is Debian's ``etcd-server``)."""
    from shiprail.kubernetes.cluster.layout import binaries_dir

    built = binaries_dir() / name
    return str(built) if built.is_file() else _subprocess.which(name)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _service_account_keys(directory: Path) -> tuple[Path, Path]:
    """The key pair kube-apiserver signs and verifies service account tokens with."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private, public = directory / "sa.key", directory / "sa.pub"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private, public


@dataclass(frozen=True)
class ApiServer:
    url: str
    kubeconfig: Path
    log: Path

    def kubectl(self, *args: str, input_text: str | None = None) -> _subprocess.Completed:
        """Run kubectl against this server; any exit code is returned, not raised."""
        return _subprocess.run(
            ["kubectl", "--kubeconfig", str(self.kubeconfig), *args],
            input_text=input_text,
            timeout=KUBECTL_TIMEOUT_SECONDS,
            ok_codes=None,
        )

    def namespace(self, name: str) -> None:
        """Create ``name`` (if absent) with its ``default`` service account."""
        manifest = (
            f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {name}}}\n---\n"
            "apiVersion: v1\nkind: ServiceAccount\n"
            f"metadata: {{name: default, namespace: {name}}}\n"
        )
        result = self.kubectl("apply", "-f", "-", input_text=manifest)
        assert result.returncode == 0, result.stderr


def _kubeconfig(path: Path, url: str, token: str, ca: Path) -> None:
    """An administrator's kubeconfig; ``ca`` is the certificate file the server makes itself
    in its ``--cert-dir`` (a self-signed CA and its serving certificate for 127.0.0.1)."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": "test", "cluster": {"server": url, "certificate-authority": str(ca)}}
        ],
        "users": [{"name": "admin", "user": {"token": token}}],
        "contexts": [{"name": "test", "context": {"cluster": "test", "user": "admin"}}],
        "current-context": "test",
    }
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    path.chmod(0o600)


@pytest.fixture(scope="session")
def kube_apiserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    etcd, apiserver = find_binary("etcd"), find_binary("kube-apiserver")
    if etcd is None or apiserver is None or _subprocess.which("kubectl") is None:
        unavailable("etcd, kube-apiserver and kubectl are needed (make tools)")
    work = tmp_path_factory.mktemp("apiserver")
    token = secrets.token_hex(16)
    (work / "tokens.csv").write_text(f'{token},admin,admin,"system:masters"\n')
    sa_key, sa_pub = _service_account_keys(work)
    client, peer, secure = _free_port(), _free_port(), _free_port()
    etcd_url = f"http://127.0.0.1:{client}"
    processes = [
        _subprocess.start(
            [
                etcd,
                f"--data-dir={work / 'etcd'}",
                f"--listen-client-urls={etcd_url}",
                f"--advertise-client-urls={etcd_url}",
                f"--listen-peer-urls=http://127.0.0.1:{peer}",
                f"--initial-advertise-peer-urls=http://127.0.0.1:{peer}",
                f"--initial-cluster=default=http://127.0.0.1:{peer}",
            ],
            log_path=work / "etcd.log",
        )
    ]
    url = f"https://127.0.0.1:{secure}"
    server = ApiServer(url, work / "kubeconfig", work / "kube-apiserver.log")
    server_ca = work / "certs" / "apiserver.crt"
    _kubeconfig(server.kubeconfig, url, token, server_ca)
    try:
        processes.append(
            _subprocess.start(
                [
                    apiserver,
                    f"--etcd-servers={etcd_url}",
                    "--bind-address=127.0.0.1",
                    f"--secure-port={secure}",
                    f"--cert-dir={work / 'certs'}",
                    f"--token-auth-file={work / 'tokens.csv'}",
                    "--authorization-mode=RBAC",
                    f"--service-account-key-file={sa_pub}",
                    f"--service-account-signing-key-file={sa_key}",
                    "--service-account-issuer=https://kubernetes.default.svc",
                    "--service-cluster-ip-range=10.96.0.0/16",
                    "--allow-privileged=true",
                ],
                log_path=server.log,
            )
        )

        def ready() -> bool:
            if any(p.poll() is not None for p in processes):
                pytest.fail(f"etcd or kube-apiserver exited; see {work}")
            if not server_ca.is_file():
                return False
            try:
                response = httpx.get(
                    f"{url}/readyz",
                    headers={"Authorization": f"Bearer {token}"},
                    verify=ssl.create_default_context(cafile=str(server_ca)),
                    timeout=2.0,
                )
            except (httpx.HTTPError, ssl.SSLError):
                return False
            return response.status_code == 200

        wait_until(ready, START_TIMEOUT_SECONDS, what="kube-apiserver /readyz", interval=0.5)
        yield server
    finally:
        for process in reversed(processes):
            process.terminate()
            try:
                process.wait(timeout=30)
            except Exception:
                process.kill()
                process.wait(timeout=10)
