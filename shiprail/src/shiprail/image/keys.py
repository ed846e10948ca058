"""The signing key pair: ``cosign generate-key-pair``, private key encrypted by a passphrase.

The pair lives in ``<state>/keys`` by default (``cosign.key`` mode 0600, ``cosign.pub``).
An existing pair is never overwritten silently: rotation is a new directory (or ``--force``)
followed by publishing the new public key beside the old one until every image signed with
the old key has been re-signed or retired (``docs/supply-chain-signing.md``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from shiprail.errors import UsageError
from shiprail.image import cosign

PRIVATE_NAME = "cosign.key"
PUBLIC_NAME = "cosign.pub"
#: Key generation is local and quick.
GENERATE_TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True)
class KeyPair:
    private_key: Path
    public_key: Path


def key_pair(directory: Path) -> KeyPair:
    return KeyPair(directory / PRIVATE_NAME, directory / PUBLIC_NAME)


def generate(directory: Path, password: str, *, force: bool = False) -> KeyPair:
    """Make a new key pair in ``directory``; an existing pair is a usage error unless ``force``."""
    pair = key_pair(directory)
    existing = [p for p in (pair.private_key, pair.public_key) if p.exists()]
    if existing and not force:
        raise UsageError(
            f"a key pair already exists in {directory}",
            hint="keep it, or rotate: generate into another --dir (or --force to replace it)",
        )
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    for path in existing:
        path.unlink()
    cosign.run(
        ["generate-key-pair", f"--output-key-prefix={directory / 'cosign'}"],
        password=password,
        timeout=GENERATE_TIMEOUT_SECONDS,
    )
    os.chmod(pair.private_key, 0o600)
    return pair


def signing_key(path: Path, password: str) -> cosign.SigningKey:
    """The private key at ``path`` with its passphrase; a usage error when it is missing."""
    if not path.is_file():
        raise UsageError(f"no cosign private key at {path}", hint="shiprail keys generate")
    return cosign.SigningKey(path, password)
