"""Settings from the environment (prefix ``WORKORDERS_``).

Outside ``dev`` the service refuses to start with missing or placeholder secrets: a
production service that silently accepts "changeme" is worse than one that does not start.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from workorders import __version__

#: Where secrets mounted as files are read from (one file per setting, named like the
#: variable: ``workorders_api_token_hashes``); ``WORKORDERS_SECRETS_DIR`` overrides it.
DEFAULT_SECRETS_DIR = "/run/secrets"

#: Largest request body accepted, in bytes (documented in the README and OpenAPI description).
DEFAULT_MAX_BODY_BYTES = 64 * 1024

#: Secrets that appear in examples and tutorials; their hashes are refused outside dev.
PLACEHOLDER_SECRETS = (
    "changeme",
    "change-me",
    "secret",
    "password",
    "token",
    "test",
    "dev",
    "example",
    "placeholder",
    "admin",
)
PLACEHOLDER_TOKEN_HASHES = frozenset(
    hashlib.sha256(word.encode()).hexdigest() for word in PLACEHOLDER_SECRETS
)
_HEX_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_PLACEHOLDER_IN_URL = re.compile(r":(changeme|change-me|password|secret|postgres)@", re.I)


class SettingsError(ValueError):
    """The configuration cannot be used; the message says which variable and what to do."""


class Settings(BaseSettings):
    """Runtime configuration of the service."""

    model_config = SettingsConfigDict(env_prefix="WORKORDERS_", extra="ignore")

    env: Literal["dev", "stage", "prod"] = "dev"
    database_url: str = "sqlite:///./workorders.db"
    api_token_hashes: Annotated[list[str], NoDecode] = Field(default_factory=list)
    max_body_bytes: int = Field(default=DEFAULT_MAX_BODY_BYTES, ge=1024, le=10 * 1024 * 1024)
    git_sha: str = "unknown"
    build_time: str = "unknown"
    version: str = __version__
    log_level: str = "INFO"
    otlp_endpoint: str | None = Field(
        default=None,
        description="OTLP/HTTP collector URL for traces (e.g. http://otel-collector:4318); "
        "unset = traces are not exported",
    )

    @field_validator("api_token_hashes", mode="before")
    @classmethod
    def _split_hashes(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip().lower() for part in value.split(",") if part.strip()]
        return value

    @field_validator("api_token_hashes")
    @classmethod
    def _hashes_are_sha256(cls, value: list[str]) -> list[str]:
        for position, digest in enumerate(value, start=1):
            if not _HEX_SHA256.match(digest):
                raise ValueError(
                    f"entry {position} is not a SHA-256 hex digest (64 characters 0-9a-f); "
                    "store hashes, not tokens: `workorders hash-token` prints one"
                )
        return value

    @model_validator(mode="after")
    def _refuse_placeholders_outside_dev(self) -> Settings:
        if self.env == "dev":
            return self
        problems = []
        if not self.api_token_hashes:
            problems.append(
                "WORKORDERS_API_TOKEN_HASHES is empty: set it to the SHA-256 hashes of the "
                "API tokens (comma-separated); `workorders hash-token` prints one"
            )
        elif PLACEHOLDER_TOKEN_HASHES.intersection(self.api_token_hashes):
            problems.append(
                "WORKORDERS_API_TOKEN_HASHES contains the hash of a placeholder token "
                "(such as 'changeme'): generate a random token"
            )
        if _PLACEHOLDER_IN_URL.search(self.database_url):
            problems.append("WORKORDERS_DATABASE_URL uses a placeholder password: set a real one")
        if problems:
            raise ValueError(f"refusing to start in {self.env}: " + "; ".join(problems))
        return self


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment, turning validation errors into one clear message."""
    from pydantic import ValidationError

    secrets_dir = Path(os.environ.get("WORKORDERS_SECRETS_DIR", DEFAULT_SECRETS_DIR))
    try:
        if secrets_dir.is_dir():
            # Secrets mounted as files (``/run/secrets/workorders_api_token_hashes``) keep
            # them out of the container's environment; environment variables still win.
            return Settings(_secrets_dir=secrets_dir, **overrides)  # type: ignore[arg-type]
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            field = ".".join(str(part) for part in error["loc"]) or "settings"
            variable = f"WORKORDERS_{field.upper()}" if field != "settings" else "settings"
            message = str(error["msg"]).removeprefix("Value error, ")
            lines.append(f"{variable}: {message}")
        raise SettingsError("invalid configuration: " + "; ".join(lines)) from None
