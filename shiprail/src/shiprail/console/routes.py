"""The console's pages and actions. Reading needs a session (any role); approving and
rejecting need the approver role (or above) and the session's CSRF token; four eyes are
checked by :mod:`shiprail.deploy.approvals`, the same code ``shiprail approve`` runs.

Pages that change while a deploy runs (environments, an environment's timeline, a release
being rolled out) poll a fragment of themselves every two seconds through htmx; the fragment
shows the rollout's stage as the engine records it (:mod:`shiprail.deploy.progress`). Without
JavaScript they are plain pages that show the state when loaded.
"""

from __future__ import annotations

from fastapi import FastAPI, Form, HTTPException, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from shiprail.console import auth, csrf, oidc, pages
from shiprail.console.app import (
    SESSION_COOKIE,
    context,
    current_session,
    render,
    set_session_cookie,
    to_login,
)
from shiprail.console.store import Role, Session
from shiprail.deploy import approvals
from shiprail.errors import ShiprailError

LOGIN_CSRF_SECONDS = 600


def _safe_next(value: str | None) -> str:
    """Only a path of this console (no scheme, no ``//host``) is followed after login."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


def _reader(request: Request) -> Session:
    session = current_session(request)
    if session is None:
        raise _Redirect(to_login(request))
    return session


class _Redirect(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


def _check_csrf(request: Request, session: Session, sent: str | None) -> None:
    if not csrf.valid(session.csrf_token, sent or request.headers.get(csrf.HEADER)):
        raise HTTPException(403, "the form's CSRF token is missing or wrong: reload the page")


def _login_cookie(response: Response, token: str) -> None:
    """The login form's double-submit CSRF value, readable by the login path only."""
    response.set_cookie(
        csrf.LOGIN_COOKIE,
        token,
        max_age=LOGIN_CSRF_SECONDS,
        httponly=True,
        secure=True,
        samesite="strict",
        path="/login",
    )


def register(app: FastAPI) -> None:
    """Add every route to ``app``."""

    @app.exception_handler(_Redirect)
    async def _redirect(_request: Request, exc: _Redirect) -> Response:
        return exc.response

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> Response:
        return render(
            request, "error.html", current_session(request), exc.status_code, message=exc.detail
        )

    _register_login(app)
    _register_oidc(app)
    _register_pages(app)
    _register_actions(app)


def _register_login(app: FastAPI) -> None:
    @app.get("/login", response_class=HTMLResponse)
    def login_form(request: Request, next: str = "/") -> Response:
        token = csrf.new_token()
        response = render(request, "login.html", None, login_csrf=token, next=_safe_next(next),
                          oidc=context(request).oidc is not None)  # fmt: skip
        _login_cookie(response, token)
        return response

    @app.post("/login", response_class=HTMLResponse)
    def login(
        request: Request,
        username: str = Form(..., max_length=64),
        password: str = Form(..., max_length=1024),
        csrf_token: str = Form(""),
        next: str = Form("/"),
    ) -> Response:
        if not csrf.valid(request.cookies.get(csrf.LOGIN_COOKIE), csrf_token):
            raise HTTPException(403, "the login form expired or was forged: reload it")
        ctx = context(request)
        address = request.client.host if request.client else "unknown"
        result = auth.login(ctx.store, ctx.config.console, username, password, address)
        if result.token is None:
            message = (
                f"Too many failed sign-ins: locked until {result.locked_until:%H:%M:%S} UTC."
                if result.locked_until
                else "Wrong account name or password."
            )
            token = csrf.new_token()
            # 403, not 401: the edge sends a 401 round once more for its own ban budget,
            # which would count every failed sign-in twice against the lock-out
            page = render(request, "login.html", None, 403, login_csrf=token, error=message,
                          next=_safe_next(next))  # fmt: skip
            _login_cookie(page, token)
            return page
        response = RedirectResponse(_safe_next(next), status_code=303)
        set_session_cookie(response, result.token, ctx.config.console.session_minutes * 60)
        response.delete_cookie(csrf.LOGIN_COOKIE, path="/login")
        return response

    @app.post("/logout")
    def logout(request: Request, csrf_token: str = Form("")) -> Response:
        session = _reader(request)
        _check_csrf(request, session, csrf_token)
        token = request.cookies.get(SESSION_COOKIE, "")
        context(request).store.close_session(token)
        context(request).store.record(session.username, "logout")
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response


def _register_oidc(app: FastAPI) -> None:
    @app.get("/oidc/login")
    def oidc_login(request: Request) -> Response:
        client = context(request).oidc
        if client is None:
            raise HTTPException(404, "sign-in through an identity provider is not configured")
        try:
            url, pending = client.start()
        except ShiprailError as exc:
            raise HTTPException(502, exc.message) from None
        response = RedirectResponse(url, status_code=303)
        # Lax, not Strict: the provider sends the browser back with a cross-site redirect
        response.set_cookie(oidc.COOKIE, pending, max_age=oidc.COOKIE_SECONDS, httponly=True,
                            secure=True, samesite="lax", path="/oidc")  # fmt: skip
        return response

    @app.get("/oidc/callback")
    def oidc_callback(request: Request, code: str = "", state: str = "") -> Response:
        ctx = context(request)
        if ctx.oidc is None:
            raise HTTPException(404, "sign-in through an identity provider is not configured")
        try:
            username, role = ctx.oidc.finish(code, state, request.cookies.get(oidc.COOKIE))
            ctx.store.sync_oidc_user(username, role)
        except ShiprailError as exc:
            raise HTTPException(403, exc.message) from None
        token, _session = ctx.store.open_session(username, ctx.config.console.session_minutes)
        address = request.client.host if request.client else "unknown"
        ctx.store.record(username, "login", detail=f"oidc as {role} from {address[:64]}")
        response = RedirectResponse("/", status_code=303)
        set_session_cookie(response, token, ctx.config.console.session_minutes * 60)
        response.delete_cookie(oidc.COOKIE, path="/oidc")
        return response


def _register_pages(app: FastAPI) -> None:
    @app.get("/", response_class=HTMLResponse)
    def environments(request: Request) -> Response:
        session = _reader(request)
        ctx = context(request)
        rows = pages.environments(ctx.config, ctx.ledger, ctx.target)
        template = (
            "_environments.html" if request.headers.get("hx-request") else "environments.html"
        )
        return render(request, template, session, rows=rows)

    @app.get("/environments/{name}", response_class=HTMLResponse)
    def timeline(request: Request, name: str) -> Response:
        session = _reader(request)
        ctx = context(request)
        if name not in ctx.config.environments:
            raise HTTPException(404, f"no environment '{name}' in shiprail.yaml")
        entries = pages.timeline(ctx.ledger, name)
        status = pages.status(ctx.config, ctx.ledger, name, None)
        template = "_timeline.html" if request.headers.get("hx-request") else "timeline.html"
        return render(request, template, session, name=name, entries=entries, status=status)

    @app.get("/releases/{release_id}", response_class=HTMLResponse)
    def release(request: Request, release_id: str) -> Response:
        session = _reader(request)
        ctx = context(request)
        page = pages.release_page(ctx.ledger, release_id, ctx.reports)
        if page is None:
            raise HTTPException(404, f"release '{release_id[:64]}' is not in the ledger")
        live = page.in_progress
        if request.headers.get("hx-request"):
            return render(request, "_release_progress.html", session, page=page, live_view=live)
        return render(request, "release.html", session, page=page, live_view=live)

    @app.get("/approvals", response_class=HTMLResponse)
    def pending(request: Request, notice: str = "") -> Response:
        session = _reader(request)
        ctx = context(request)
        rows = pages.pending(ctx.config, ctx.ledger)
        can = auth.may(session, Role.approver)
        return render(request, "approvals.html", session, rows=rows, can_approve=can,
                      notice=notice[:200])  # fmt: skip

    @app.get("/findings", response_class=HTMLResponse)
    def findings(request: Request, severity: str = "", tool: str = "", state: str = "") -> Response:
        session = _reader(request)
        found = pages.findings(context(request).reports, severity, tool, state)
        chosen = {"severity": severity, "tool": tool, "state": state}
        return render(request, "findings.html", session, found=found, chosen=chosen,
                      severities=pages.SEVERITIES)  # fmt: skip

    @app.get("/findings/source", response_class=HTMLResponse)
    def source(request: Request, path: str, line: int = 1) -> Response:
        session = _reader(request)
        ctx = context(request)
        lines = pages.source_excerpt(ctx.root, ctx.reports, path, line)
        if not lines:
            raise HTTPException(404, "that file is not named by the last scan")
        return render(request, "source.html", session, path=path, line=line, lines=lines)

    @app.get("/dora", response_class=HTMLResponse)
    def dora(request: Request, environment: str = "") -> Response:
        session = _reader(request)
        ctx = context(request)
        names = list(ctx.config.environments)
        chosen = environment or names[-1]
        if chosen not in names:
            raise HTTPException(404, f"no environment '{chosen[:64]}' in shiprail.yaml")
        row = pages.dora(ctx.config, ctx.ledger, chosen, ctx.commit_times)
        return render(request, "dora.html", session, row=row, names=names)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}


def _register_actions(app: FastAPI) -> None:
    @app.post("/approvals/{environment}/{release_id}/{decision}")
    def decide(
        request: Request,
        environment: str,
        release_id: str,
        decision: str,
        reason: str = Form("", max_length=2000),
        csrf_token: str = Form(""),
    ) -> Response:
        session = _reader(request)
        _check_csrf(request, session, csrf_token)
        if not auth.may(session, Role.approver):
            raise HTTPException(403, f"{session.username} is a {session.role}: approving needs "
                                "the approver role")  # fmt: skip
        ctx = context(request)
        if environment not in ctx.config.environments or decision not in ("approve", "reject"):
            raise HTTPException(404, "no such approval")
        act = approvals.approve if decision == "approve" else approvals.reject
        try:
            act(ctx.ledger, environment, release_id, session.username, reason)
        except ShiprailError as exc:
            ctx.store.record(session.username, f"{decision}-refused", environment=environment,
                             release_id=release_id, detail=exc.message)  # fmt: skip
            raise HTTPException(403 if exc.exit_code == 1 else 400, exc.message) from None
        ctx.store.record(session.username, decision, environment=environment,
                         release_id=release_id, detail=reason)  # fmt: skip
        notice = f"{decision}d {release_id} for {environment}"
        return RedirectResponse(f"/approvals?notice={notice}", status_code=303)
