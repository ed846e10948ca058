"""Dependency aliases shared by the routers (settings, database session, auth)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from workorders.db import session_scope
from workorders.errors import APIError
from workorders.observability import Metrics
from workorders.settings import Settings

_bearer = HTTPBearer(auto_error=False, description="API token; required for writes only.")


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_metrics(request: Request) -> Metrics:
    return request.app.state.metrics


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request: committed when the handler returns, else rolled back."""
    with session_scope(request.app.state.session_factory) as session:
        yield session


def token_is_valid(token: str, allowed_hashes: list[str]) -> bool:
    """Compare the token's SHA-256 with every stored hash in constant time."""
    digest = hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
    matched = False
    for allowed in allowed_hashes:
        matched |= hmac.compare_digest(digest, allowed)
    return matched


#: Sent with every 401 (RFC 6750).
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="workorders"'}


async def require_writer(
    settings: Annotated[Settings, Depends(get_settings)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """Async on purpose: hashing one token is microseconds, a thread hop costs more."""
    challenge = dict(_CHALLENGE)
    if credentials is None:
        raise APIError(
            401,
            "unauthorized",
            "writes need an 'Authorization: Bearer <token>' header",
            [{"field": "header.authorization", "problem": "missing"}],
            challenge,
        )
    if not token_is_valid(credentials.credentials, settings.api_token_hashes):
        raise APIError(
            401,
            "unauthorized",
            "the bearer token is not valid",
            [{"field": "header.authorization", "problem": "invalid token"}],
            challenge,
        )


SettingsDep = Annotated[Settings, Depends(get_settings)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
SessionDep = Annotated[Session, Depends(get_session)]
WriterDep = Depends(require_writer)
