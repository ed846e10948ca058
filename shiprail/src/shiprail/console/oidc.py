"""OpenID Connect sign-in: the authorization code flow with PKCE, a state and a nonce.

The provider's endpoints come from its discovery document; the ID token is verified with
PyJWT against the provider's published keys (signature, issuer, audience, expiry) and must
carry the nonce this sign-in made. The console role is the highest one whose IdP groups
(``console.oidc.roles``) the token's groups claim names; a person with none is refused. The
state, nonce and PKCE verifier live in a short-lived HttpOnly cookie on ``/oidc`` only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt

from shiprail.console.settings import OidcConfig
from shiprail.console.store import Role
from shiprail.errors import Refused, UsageError

COOKIE = "shiprail_oidc"
COOKIE_SECONDS = 600
TIMEOUT_SECONDS = 10.0
ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"]


class OidcClient:
    """One identity provider; discovery and keys are fetched once per process."""

    def __init__(
        self,
        config: OidcConfig,
        environ: Mapping[str, str],
        http: httpx.Client | None = None,
    ) -> None:
        self.config = config
        self.secret = environ.get(config.client_secret_env) if config.client_secret_env else None
        if config.client_secret_env and not self.secret:
            raise UsageError(
                f"console.oidc.client_secret_env names {config.client_secret_env}, which is "
                "not set",
                hint=f"export {config.client_secret_env}=<the client secret from the IdP>",
            )
        self.http = http or httpx.Client(timeout=TIMEOUT_SECONDS)
        self._metadata: dict[str, Any] | None = None

    def metadata(self) -> dict[str, Any]:
        if self._metadata is None:
            url = f"{self.config.issuer}/.well-known/openid-configuration"
            self._metadata = self._get_json(url)
        return self._metadata

    def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = self.http.get(url)
            response.raise_for_status()
            data = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise Refused(f"the identity provider did not answer {url}: {exc}") from exc
        if not isinstance(data, dict):
            raise Refused(f"the identity provider's {url} is not a JSON object")
        return data

    def start(self) -> tuple[str, str]:
        """The provider's authorization URL, and the cookie value that must come back."""
        state, nonce, verifier = (secrets.token_urlsafe(32) for _ in range(3))
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        query = urlencode({
            "response_type": "code", "client_id": self.config.client_id,
            "redirect_uri": self.config.redirect_url, "scope": "openid profile email",
            "state": state, "nonce": nonce,
            "code_challenge": challenge.decode().rstrip("="), "code_challenge_method": "S256",
        })  # fmt: skip
        cookie = json.dumps({"state": state, "nonce": nonce, "verifier": verifier})
        return f"{self.metadata()['authorization_endpoint']}?{query}", cookie

    def finish(self, code: str, state: str, cookie: str | None) -> tuple[str, Role]:
        """Exchange the code, verify the ID token; the account name and its console role."""
        try:
            pending = json.loads(cookie or "")
            expected = str(pending["state"])
        except (ValueError, KeyError, TypeError):
            raise Refused("the sign-in expired or did not start here: sign in again") from None
        if not hmac.compare_digest(expected.encode(), state.encode()):
            raise Refused("the sign-in's state does not match: sign in again")
        claims = self._verified(self._token(code, str(pending["verifier"])))
        if not hmac.compare_digest(str(claims.get("nonce", "")), str(pending["nonce"])):
            raise Refused("the ID token's nonce does not match this sign-in")
        username = str(claims.get(self.config.username_claim) or claims["sub"])[:64]
        return username, self.role(claims)

    def _token(self, code: str, verifier: str) -> str:
        form = {
            "grant_type": "authorization_code", "code": code,
            "redirect_uri": self.config.redirect_url, "client_id": self.config.client_id,
            "code_verifier": verifier,
        }  # fmt: skip
        if self.secret:
            form["client_secret"] = self.secret
        try:
            response = self.http.post(self.metadata()["token_endpoint"], data=form)
            response.raise_for_status()
            token = response.json()["id_token"]
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            raise Refused(
                f"the identity provider refused the code ({type(exc).__name__})"
            ) from None
        return str(token)

    def _verified(self, token: str) -> dict[str, Any]:
        keys = jwt.PyJWKSet.from_dict(self._get_json(self.metadata()["jwks_uri"]))
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            key = next((k for k in keys.keys if kid is None or k.key_id == kid), None)
            if key is None:
                raise Refused("the ID token is signed by a key the provider does not publish")
            claims: dict[str, Any] = jwt.decode(
                token, key=key.key, algorithms=ALGORITHMS, audience=self.config.client_id,
                issuer=self.config.issuer,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )  # fmt: skip
        except jwt.PyJWTError as exc:
            raise Refused(f"the ID token is not valid: {exc}") from None
        return claims

    def role(self, claims: Mapping[str, Any]) -> Role:
        """The highest role one of the person's groups grants; refused when none does."""
        groups = claims.get(self.config.groups_claim) or []
        named = {groups} if isinstance(groups, str) else {str(g) for g in groups}
        granted = [Role(r) for r, wanted in self.config.roles.items() if named & set(wanted)]
        if not granted:
            raise Refused("no console role for this account: none of its groups is mapped")
        return max(granted, key=list(Role).index)
