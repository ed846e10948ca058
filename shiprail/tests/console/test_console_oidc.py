"""OIDC sign-in through the real console and the real PyJWT verification, against a small
identity provider of this test's own (discovery, keys, token endpoint) reached through an
``httpx.MockTransport``: the provider is the external system, the flow is ours. The
provider checks the PKCE verifier and the client secret; its key is made at run time."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient

from shiprail.console.app import create_app
from shiprail.console.oidc import OidcClient
from shiprail.console.settings import OidcConfig

from .conftest import Console

ISSUER = "https://idp.example.test/realms/team"
CLIENT = "shiprail-console"


@dataclass
class Provider:
    """Issues an ID token for the code it handed out, once, to the right verifier."""

    secret: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    key: Any = field(default_factory=lambda: rsa.generate_private_key(65537, 2048))
    claims: dict[str, Any] = field(default_factory=dict)
    codes: dict[str, tuple[str, str]] = field(default_factory=dict)

    def authorize(self, url: str) -> tuple[str, str]:
        """What the browser gets back from the provider: (code, state)."""
        query = {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}
        code = secrets.token_urlsafe(16)
        self.codes[code] = (query["code_challenge"], query["nonce"])
        return code, query["state"]

    def handler(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/.well-known/openid-configuration"):
            return httpx.Response(200, json={
                "issuer": ISSUER, "authorization_endpoint": f"{ISSUER}/auth",
                "token_endpoint": f"{ISSUER}/token", "jwks_uri": f"{ISSUER}/certs",
            })  # fmt: skip
        if path.endswith("/certs"):
            jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
            return httpx.Response(200, json={"keys": [{**jwk, "kid": "k1", "use": "sig"}]})
        if path.endswith("/token"):
            return self._token({k: v[0] for k, v in parse_qs(request.content.decode()).items()})
        return httpx.Response(404)

    def _token(self, form: dict[str, str]) -> httpx.Response:
        challenge, nonce = self.codes.pop(form.get("code", ""), ("", ""))
        digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
        if not challenge or base64.urlsafe_b64encode(digest).decode().rstrip("=") != challenge:
            return httpx.Response(400, json={"error": "invalid_grant"})
        if form.get("client_secret") != self.secret:
            return httpx.Response(401, json={"error": "invalid_client"})
        now = int(time.time())
        claims = {"iss": ISSUER, "aud": CLIENT, "sub": "u-1", "iat": now, "exp": now + 300,
                  "nonce": nonce, "preferred_username": "dora", "groups": ["release-approvers"],
                  **self.claims}  # fmt: skip
        token = jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": "k1"})
        return httpx.Response(200, json={"id_token": token, "token_type": "Bearer"})


def _client(console: Console, provider: Provider) -> TestClient:
    config = OidcConfig(
        issuer=ISSUER, client_id=CLIENT, client_secret_env="IDP_SECRET",
        redirect_url="https://console.example.test/oidc/callback",
        roles={"approver": ["release-approvers"], "admin": ["platform"]},
    )  # fmt: skip
    oidc = OidcClient(config, {"IDP_SECRET": provider.secret},
                      httpx.Client(transport=httpx.MockTransport(provider.handler)))  # fmt: skip
    app = create_app(console.world.engine.config, console.world.ledger, reports=console.reports,
                     root=console.root, commit_times=lambda shas: {}, oidc=oidc)  # fmt: skip
    return TestClient(app, base_url="https://testserver", follow_redirects=False)


def _sign_in(client: TestClient, provider: Provider, state: str | None = None) -> httpx.Response:
    start = client.get("/oidc/login")
    assert start.status_code == 303
    code, given = provider.authorize(start.headers["location"])
    return client.get("/oidc/callback", params={"code": code, "state": state or given})


def test_oidc_sign_in_maps_groups_to_a_role(console: Console) -> None:
    provider = Provider()
    client = _client(console, provider)
    assert "identity provider" in client.get("/login").text
    assert _sign_in(client, provider).status_code == 303
    page = client.get("/approvals")
    assert page.status_code == 200 and "dora (approver)" in page.text
    assert console.store.audit()[0].detail.startswith("oidc as approver")


@pytest.mark.parametrize(
    ("claims", "state", "why"),
    [
        ({}, "forged-state", "state does not match"),
        ({"aud": "another-client"}, None, "not valid"),
        ({"iss": "https://evil.example.test"}, None, "not valid"),
        ({"exp": 1}, None, "not valid"),
        ({"nonce": "replayed"}, None, "nonce"),
        ({"groups": ["everyone"]}, None, "no console role"),
        ({"preferred_username": "bob"}, None, "local account"),
    ],
)
def test_oidc_sign_in_refusals(
    console: Console, claims: dict[str, Any], state: str | None, why: str
) -> None:
    provider = Provider(claims=claims)
    client = _client(console, provider)
    refused = _sign_in(client, provider, state)
    assert refused.status_code == 403 and why in refused.text
    assert client.get("/").status_code == 303, "no session"


def test_oidc_needs_its_client_secret_in_the_environment() -> None:
    from shiprail.errors import UsageError

    config = OidcConfig(issuer=ISSUER, client_id=CLIENT, client_secret_env="NOPE",
                        redirect_url="https://c.example.test/oidc/callback",
                        roles={"viewer": ["all"]})  # fmt: skip
    with pytest.raises(UsageError, match="NOPE"):
        OidcClient(config, {})
    with pytest.raises(ValueError, match="https"):
        OidcConfig.model_validate({**config.model_dump(), "issuer": "http://idp.example.test"})
    with pytest.raises(ValueError, match="unknown role"):
        OidcConfig.model_validate({**config.model_dump(), "roles": {"root": ["x"]}})
