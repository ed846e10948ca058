"""Every environment variable shiprail reads outside its command-line options, in one object.

Command options take ``SHIPRAIL_<OPTION>`` through Typer; everything else the engine reads
from its environment is a field of :class:`Settings`, read once per process by
:func:`get_settings`, so a reader finds every variable here and in the table of
``docs/settings.md`` (a test keeps the two equal). Tests build a ``Settings`` explicitly with
:meth:`Settings.from_environ` or clear the cache with ``get_settings.cache_clear()``.

The values a deployed service receives from ``${NAME}`` references and ``env:`` secrets in
``shiprail.yaml`` are not settings of shiprail: the release engine reads those by name at
deploy time.

This module imports nothing from shiprail, so the lowest layer (``paths``, the Docker
boundary) can use it.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args, get_type_hints


@dataclass(frozen=True)
class Settings:
    """What the environment says; None means "not set", and the reader applies its default."""

    #: the repository shiprail works on (else found from the working directory)
    root: Path | None = None
    #: the shiprail checkout: rules, advisory data, pinned tools
    home: Path | None = None
    #: a directory of pinned tools searched before every other
    tools_bin: Path | None = None
    #: where deploy keeps proxy config, certificates, secrets and the SQLite ledger
    state_dir: Path | None = None
    #: the release ledger (may carry a password, hence never in a repr)
    database_url: str | None = field(default=None, repr=False)
    #: who is acting, recorded in the ledger
    actor: str | None = None
    #: the CI's user, the actor when ``SHIPRAIL_ACTOR`` is not set
    github_actor: str | None = None
    #: JSON schemas the monitoring checks validate against
    schemas_dir: Path | None = None
    #: OSV directory of PyPI advisories (overrides ``scan.dependencies.advisory_db``)
    advisory_db: str | None = None
    #: scan result cache (overrides ``scan.cache_dir``)
    scan_cache: str | None = None
    #: progress lines from ``shiprail scan`` on a terminal too (any non-empty value)
    verbose: bool = False
    #: Debian mirror the base image is bootstrapped from
    debian_mirror: str | None = None
    #: the Docker Engine used for the ``local`` target and image builds
    docker_host: str | None = None
    #: the passphrase of the cosign private key (never in a repr; cosign gets it privately)
    cosign_password: str | None = field(default=None, repr=False)
    #: credentials for a registry other than the local one (ECR, ACR: a short-lived token)
    registry_username: str | None = None
    registry_password: str | None = field(default=None, repr=False)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Settings:
        """Read every variable from ``environ``; blank values count as unset."""
        hints = get_type_hints(cls)
        values: dict[str, Any] = {}
        for name, variable in VARIABLES.items():
            raw = environ.get(variable, "").strip()
            if not raw:
                continue
            if hints[name] is bool:
                values[name] = True
            elif Path in get_args(hints[name]):
                values[name] = Path(raw)
            else:
                values[name] = raw
        return cls(**values)


#: Field of :class:`Settings` → the environment variable it is read from.
VARIABLES: dict[str, str] = {
    "root": "SHIPRAIL_ROOT",
    "home": "SHIPRAIL_HOME",
    "tools_bin": "SHIPRAIL_TOOLS_BIN",
    "state_dir": "SHIPRAIL_STATE_DIR",
    "database_url": "SHIPRAIL_DATABASE_URL",
    "actor": "SHIPRAIL_ACTOR",
    "github_actor": "GITHUB_ACTOR",
    "schemas_dir": "SHIPRAIL_SCHEMAS_DIR",
    "advisory_db": "SHIPRAIL_ADVISORY_DB",
    "scan_cache": "SHIPRAIL_SCAN_CACHE",
    "verbose": "SHIPRAIL_VERBOSE",
    "debian_mirror": "SHIPRAIL_DEBIAN_MIRROR",
    "docker_host": "DOCKER_HOST",
    "cosign_password": "SHIPRAIL_COSIGN_PASSWORD",
    "registry_username": "SHIPRAIL_REGISTRY_USERNAME",
    "registry_password": "SHIPRAIL_REGISTRY_PASSWORD",
}


@functools.cache
def get_settings() -> Settings:
    """The settings of this process, read from its environment on first use."""
    return Settings.from_environ(os.environ)
