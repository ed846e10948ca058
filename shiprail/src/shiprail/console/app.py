"""The console's FastAPI application: ``create_app()`` wires the ledger, the configuration and
the reports directory into the pages (:mod:`.routes`) behind sign-in.

Every response carries a strict Content-Security-Policy (scripts and styles only from the
console itself: no inline code, nothing from elsewhere) and the usual hardening headers. The
session cookie is HttpOnly, Secure and SameSite=Strict; a request without a valid session
reaches only the login page and the static files.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from shiprail.config import ShiprailConfig
from shiprail.console import csrf
from shiprail.console.oidc import OidcClient
from shiprail.console.pages import TargetFactory
from shiprail.console.store import ConsoleStore, Session
from shiprail.deploy.ledger import Ledger
from shiprail.deploy.progress import STAGES
from shiprail.observe.dora import CommitTimes

HERE = Path(__file__).parent
SESSION_COOKIE = "shiprail_session"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


@dataclass
class Context:
    """What the routes read: one per application."""

    config: ShiprailConfig
    ledger: Ledger
    store: ConsoleStore
    reports: Path
    root: Path
    commit_times: CommitTimes
    target: TargetFactory | None
    templates: Jinja2Templates
    #: the console is reached over HTTPS (its own TLS or the edge): HSTS is sent
    https: bool
    #: sign-in through the identity provider, when ``console.oidc`` configures one
    oidc: OidcClient | None = None


def create_app(
    config: ShiprailConfig,
    ledger: Ledger,
    *,
    reports: Path,
    root: Path,
    commit_times: CommitTimes,
    target: TargetFactory | None = None,
    https: bool = False,
    oidc: OidcClient | None = None,
) -> FastAPI:
    """The console over ``ledger`` (migrated by the caller) and ``reports``."""
    from shiprail.console import routes

    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.autoescape = True
    templates.env.filters["when"] = when
    templates.env.globals["stages"] = STAGES
    app.state.ctx = Context(
        config, ledger, ConsoleStore(ledger), reports, root, commit_times, target, templates,
        https, oidc,
    )  # fmt: skip
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.middleware("http")(_security_headers)
    routes.register(app)
    return app


async def _security_headers(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    response = await call_next(request)
    response.headers.update(HEADERS)
    if not request.url.path.startswith("/static/"):
        response.headers["Cache-Control"] = "no-store"
    if context(request).https:
        response.headers["Strict-Transport-Security"] = "max-age=31536000"
    return response


def context(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


def current_session(request: Request) -> Session | None:
    token = request.cookies.get(SESSION_COOKIE)
    return context(request).store.session(token) if token else None


def render(
    request: Request,
    template: str,
    session: Session | None,
    status_code: int = 200,
    **values: Any,
) -> HTMLResponse:
    """A page, with the session (for the header and the CSRF token of its forms)."""
    return context(request).templates.TemplateResponse(
        request,
        template,
        {"session": session, "csrf_field": csrf.FIELD, **values},
        status_code=status_code,
    )


def set_session_cookie(response: Response, token: str, max_age: int) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max_age,
        httponly=True,
        secure=True,
        samesite="strict",
        path="/",
    )


def to_login(request: Request) -> RedirectResponse:
    return RedirectResponse(f"/login?next={request.url.path}", status_code=303)


def when(value: datetime | None) -> str:
    """A ledger timestamp as the console shows it (always UTC, to the second)."""
    return f"{value:%Y-%m-%d %H:%M:%S} UTC" if value else ""
