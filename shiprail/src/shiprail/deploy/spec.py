"""What a release is started with: the one place a :class:`ReleaseSpec` is built.

Deploy, promote and rollback all start containers from this spec, so a release rolled back
from the ledger (its containers gone) runs with exactly what a fresh deploy would give it.
Values that differ per site (``${NAME}`` references, ``env:`` secrets) are read from the
environment mapping handed in, at deploy time, never stored in the ledger.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from shiprail.deploy.records import Release
from shiprail.deploy.settings import EnvironmentConfig
from shiprail.deploy.targets.interface import ReleaseSpec
from shiprail.errors import ConfigError

_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def read_secrets(
    environment: str, cfg: EnvironmentConfig, environ: Mapping[str, str], root: Path
) -> dict[str, bytes]:
    """Each secret's bytes, from an environment variable or a file (relative to ``root``)."""
    values: dict[str, bytes] = {}
    for name, ref in cfg.secrets.items():
        where = f"environments.{environment}.secrets.{name}"
        if ref.env is not None:
            value = environ.get(ref.env)
            if value is None:
                raise ConfigError(f"{where}: environment variable {ref.env} is not set")
            values[name] = value.encode()
        else:
            assert ref.file is not None
            path = Path(ref.file)
            path = path if path.is_absolute() else root / path
            try:
                values[name] = path.read_bytes()
            except OSError as exc:
                raise ConfigError(f"{where}: cannot read {ref.file}: {exc.strerror}") from None
    return values


def container_env(
    environment: str, cfg: EnvironmentConfig, release_id: str, environ: Mapping[str, str]
) -> dict[str, str]:
    """The container environment; ``${NAME}`` values are read from shiprail's own
    environment at deploy time (for values that differ per site, such as token hashes)."""
    values = {}
    for key, value in cfg.env.items():
        match = _REFERENCE.fullmatch(value)
        if match:
            found = environ.get(match.group(1))
            if found is None:
                raise ConfigError(
                    f"environments.{environment}.env.{key}: environment variable "
                    f"{match.group(1)} is not set"
                )
            value = found
        values[key] = value
    return {**values, "SHIPRAIL_RELEASE": release_id}


def release_spec(
    environment: str,
    cfg: EnvironmentConfig,
    release: Release,
    secrets: dict[str, bytes],
    environ: Mapping[str, str],
    service: str,
) -> ReleaseSpec:
    """What the target starts for ``release`` in ``environment`` of ``service``."""
    return ReleaseSpec(
        environment=environment,
        release_id=release.id,
        colour=release.colour,
        image=release.image,
        replicas=cfg.replicas,
        cpus=cfg.cpus,
        memory_bytes=cfg.memory_bytes,
        network=cfg.network_name(environment, service),
        container_port=cfg.container_port,
        health_path=cfg.health.path,
        health_interval_seconds=cfg.health.interval_seconds,
        env=container_env(environment, cfg, release.id, environ),
        secrets=secrets,
        pre_start_command=tuple(cfg.pre_start) if cfg.pre_start else None,
        service=service,
    )
