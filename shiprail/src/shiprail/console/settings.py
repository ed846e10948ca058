"""``console:`` in ``shiprail.yaml``: where the web console listens, its TLS, and how sign-in
is guarded (session lifetime, lock-out after failed logins).

The console refuses to listen on a non-loopback address without TLS, unless ``edge`` publishes
it through the nginx edge, which terminates TLS in front of it (``docs/console.md``).
"""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from shiprail.deploy.settings import EdgeConfig
from shiprail.strict import StrictModel

ROLE_NAMES = ("viewer", "approver", "deployer", "admin")


class OidcConfig(StrictModel):
    """Sign-in through the team's identity provider (OpenID Connect, authorization code flow
    with PKCE). The client secret is read from the environment variable it names, never
    from this file."""

    issuer: str = Field(description="https URL whose /.well-known/openid-configuration exists")
    client_id: str
    client_secret_env: str | None = Field(
        default=None, description="environment variable holding the client secret"
    )
    redirect_url: str = Field(description="this console's /oidc/callback, as the IdP knows it")
    username_claim: str = "preferred_username"
    groups_claim: str = "groups"
    roles: dict[str, list[str]] = Field(
        description="console role -> the IdP groups that grant it; no matching group, no entry"
    )

    @field_validator("issuer", "redirect_url")
    @classmethod
    def _https(cls, value: str) -> str:
        """https, except an identity provider on this very host (loopback) for trials."""
        if not value.startswith(("https://", "http://127.0.0.1:", "http://localhost:")):
            raise ValueError("must be an https:// URL")
        return value.rstrip("/")

    @field_validator("roles")
    @classmethod
    def _roles(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        unknown = sorted(set(value) - set(ROLE_NAMES))
        if unknown:
            raise ValueError(f"unknown role {unknown[0]!r}: use {', '.join(ROLE_NAMES)}")
        if not any(value.values()):
            raise ValueError("map at least one IdP group to a role")
        return value


class ConsoleConfig(StrictModel):
    host: str = Field(default="127.0.0.1", description="address the console listens on")
    port: int = Field(default=8090, ge=1, le=65535)
    tls_cert_file: str | None = Field(default=None, description="PEM certificate (chain)")
    tls_key_file: str | None = Field(default=None, description="PEM private key")
    edge: EdgeConfig | None = Field(
        default=None,
        description="publish the console through the nginx edge under its own hostname "
        "(TLS ends at the edge; the console listens on the edge network's gateway)",
    )
    session_minutes: int = Field(default=480, ge=5, le=7 * 24 * 60)
    max_login_failures: int = Field(
        default=5, ge=1, le=100, description="failed logins (per account, per address) before"
    )
    lockout_minutes: int = Field(default=15, ge=1, le=24 * 60)
    oidc: OidcConfig | None = None

    @model_validator(mode="after")
    def _tls_pair(self) -> ConsoleConfig:
        if (self.tls_cert_file is None) != (self.tls_key_file is None):
            raise ValueError("tls_cert_file and tls_key_file go together: set both or neither")
        if self.edge is not None:
            if self.tls:
                raise ValueError("the edge terminates TLS: set edge or tls_cert_file, not both")
            if self.edge.router != "nginx":
                raise ValueError("edge.router: the console is published through nginx only")
            if self.edge.basic_auth is not None:
                raise ValueError("edge.basic_auth: the console has its own sign-in; remove it")
        return self

    @property
    def tls(self) -> bool:
        return self.tls_cert_file is not None
