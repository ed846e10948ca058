"""The one way shiprail runs cosign: the registry's credentials and CA, the key's passphrase.

cosign reads registry credentials from a Docker ``config.json``; shiprail writes one into a
private temporary directory for each run (``DOCKER_CONFIG``) rather than touching the user's
own, and trusts the registry's CA with ``--registry-cacert`` (registry commands only). The
private key's passphrase travels in ``COSIGN_PASSWORD``, never on a command line.

Offline there is no transparency log (Rekor) and no keyless signing (Fulcio): signatures are
made with ``--tlog-upload=false`` and checked with ``--insecure-ignore-tlog``; the words are
cosign's, the meaning is "verified against the key alone".

Where an OIDC identity exists (GitHub Actions with ``id-token: write``), :data:`KEYLESS`
signs instead with a short-lived Fulcio certificate for that identity and records every
signature in Rekor: no key to keep, and a public record of who signed what, when.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from shiprail import _subprocess
from shiprail.errors import UsageError
from shiprail.image.registry import RegistryAccess
from shiprail.settings import get_settings

COSIGN_HINT = "scripts/install-tools.sh cosign"
#: Seconds one cosign call may take (a push of a signature or an attestation is small).
COSIGN_TIMEOUT_SECONDS = 180.0
OFFLINE_NOTE = "no transparency log (offline): signed and verified with keys only"
KEYLESS_NOTE = (
    "keyless: Fulcio certificate for this workflow's OIDC identity, recorded in the Rekor "
    "transparency log"
)
#: Where cosign finds an OIDC identity without a browser: GitHub Actions' token endpoint
#: (both set under ``id-token: write``), or a token handed over directly.
GITHUB_OIDC_VARIABLES = ("ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN")
SIGSTORE_OIDC_VARIABLE = "SIGSTORE_ID_TOKEN"


@dataclass(frozen=True)
class SigningKey:
    """A cosign private key and the passphrase that decrypts it."""

    path: Path
    password: str = field(repr=False)
    note = OFFLINE_NOTE

    def key_flags(self) -> list[str]:
        return [f"--key={self.path}"]

    def tlog_flags(self) -> list[str]:
        """No transparency log: none can be reached offline (see the module docstring)."""
        return ["--tlog-upload=false"]


@dataclass(frozen=True)
class Keyless:
    """cosign's keyless flow: a Fulcio certificate for the ambient OIDC identity, Rekor on.

    It only works where such an identity exists (GitHub Actions with ``id-token: write``);
    :meth:`require_identity` says so before anything is pushed, instead of cosign waiting
    for a browser login that never comes.
    """

    password = ""
    note = KEYLESS_NOTE

    def key_flags(self) -> list[str]:
        return []

    def tlog_flags(self) -> list[str]:
        """Nothing: cosign uploads to Rekor by default, which keyless verification needs."""
        return []

    def require_identity(self, environ: Mapping[str, str] | None = None) -> None:
        """A usage error unless an OIDC identity is at hand (``environ``: ``os.environ``)."""
        env = os.environ if environ is None else environ
        if env.get(SIGSTORE_OIDC_VARIABLE) or all(env.get(v) for v in GITHUB_OIDC_VARIABLES):
            return
        raise UsageError(
            "keyless signing needs an OIDC identity, and none is available here",
            hint="run it in GitHub Actions with 'permissions: id-token: write' "
            "(or sign with a key: drop --keyless)",
        )


#: Sign without a key (see :class:`Keyless`).
KEYLESS = Keyless()
#: What signs: a key (offline, no transparency log) or the keyless flow.
Signer = SigningKey | Keyless


class Runner(Protocol):
    """How a cosign command is run: :func:`run`, or a stand-in that records the arguments."""

    def __call__(
        self,
        args: Sequence[str],
        *,
        access: RegistryAccess | None = None,
        password: str = "",
    ) -> _subprocess.Completed: ...


def passphrase(password_file: Path | None = None) -> str:
    """The private key's passphrase: the file's first line, else ``SHIPRAIL_COSIGN_PASSWORD``.

    An empty passphrase is refused: the private key is always stored encrypted.
    """
    if password_file is not None:
        try:
            lines = password_file.read_text().splitlines()
        except OSError as exc:
            raise UsageError(
                f"cannot read the passphrase file {password_file}: {exc.strerror}"
            ) from None
        value = lines[0] if lines else ""
    else:
        value = get_settings().cosign_password or ""
    if not value:
        raise UsageError(
            "no passphrase for the cosign key",
            hint="set SHIPRAIL_COSIGN_PASSWORD or pass --password-file FILE",
        )
    return value


def run(
    args: Sequence[str],
    *,
    access: RegistryAccess | None = None,
    password: str = "",
    timeout: float = COSIGN_TIMEOUT_SECONDS,
    ok_codes: Sequence[int] | None = (0,),
) -> _subprocess.Completed:
    """Run ``cosign ARGS``; registry commands get ``access``'s credentials and CA."""
    with tempfile.TemporaryDirectory(prefix="shiprail-cosign-") as config_dir:
        env = {"COSIGN_PASSWORD": password, "DOCKER_CONFIG": config_dir}
        registry_flags: list[str] = []
        if access is not None:
            _write_docker_config(Path(config_dir), access)
            if access.ca_file is not None:
                registry_flags = [f"--registry-cacert={access.ca_file}"]
        return _subprocess.run(
            ["cosign", *args, *registry_flags],
            env=env,
            timeout=timeout,
            install_hint=COSIGN_HINT,
            ok_codes=ok_codes,
        )


def _write_docker_config(directory: Path, access: RegistryAccess) -> None:
    """A ``config.json`` holding only this registry's credentials (mode 0600)."""
    token = base64.b64encode(f"{access.username}:{access.password}".encode()).decode()
    path = directory / "config.json"
    path.touch(mode=0o600)
    os.chmod(path, 0o600)
    path.write_text(json.dumps({"auths": {access.host: {"auth": token}}}))
