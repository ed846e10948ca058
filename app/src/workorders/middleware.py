"""Protective middleware: security headers on every response and the request body limit."""

from __future__ import annotations

import contextlib
import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: The API serves JSON only, so nothing may be loaded, framed or submitted.
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
#: The interactive docs load Swagger UI / ReDoc from their CDN (they need inline bootstrap).
DOCS_CSP = (
    "default-src 'none'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; "
    "font-src https://fonts.gstatic.com; worker-src blob:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
DOCS_PATHS = ("/docs", "/redoc")
HSTS = "max-age=63072000; includeSubDomains"

_BASE_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
]


def _security_headers(csp: str, *, tls: bool) -> tuple[tuple[bytes, bytes], ...]:
    extra = [*_BASE_HEADERS, (b"content-security-policy", csp.encode())]
    if tls:
        extra.append((b"strict-transport-security", HSTS.encode()))
    return tuple(extra)


#: The four header sets a response can get, built once: (docs page?, over TLS?) -> headers.
_HEADER_SETS = {
    (docs, tls): _security_headers(DOCS_CSP if docs else API_CSP, tls=tls)
    for docs in (False, True)
    for tls in (False, True)
}
_HEADER_NAMES = frozenset(name for headers in _HEADER_SETS.values() for name, _ in headers)


class SecurityHeadersMiddleware:
    """Adds the security headers; HSTS only when the request arrived over TLS."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = _HEADER_SETS[scope["path"].startswith(DOCS_PATHS), scope.get("scheme") == "https"]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers", ())
                # A handler may set one of these itself; its value wins (rare: checked by
                # name only when a response carries such a header).
                if any(key.lower() in _HEADER_NAMES for key, _ in headers):
                    present = {key.lower() for key, _ in headers}
                    message["headers"] = [
                        *headers,
                        *((k, v) for k, v in extra if k not in present),
                    ]
                else:
                    message["headers"] = [*headers, *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)


#: HTTP versions whose request body, without Transfer-Encoding, is exactly Content-Length.
_FRAMED_BY_LENGTH = frozenset({"1.0", "1.1"})


class _BodyTooLarge(Exception):
    pass


class BodyLimitMiddleware:
    """Answers 413 for bodies over the limit, by Content-Length or by counting the stream."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def _reject(self, scope: Scope, send: Send) -> None:
        request_id = scope.get("state", {}).get("request_id")
        body = json.dumps(
            {
                "error": {
                    "code": "payload_too_large",
                    "message": f"request body exceeds {self.max_body_bytes} bytes",
                    "details": [
                        {"field": "body", "problem": f"larger than {self.max_body_bytes} bytes"}
                    ],
                    "request_id": request_id,
                }
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunked = False
        for key, value in scope.get("headers", ()):
            if key == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > self.max_body_bytes:
                    await self._reject(scope, send)
                    return
            elif key == b"transfer-encoding":
                chunked = True
        if not chunked and scope.get("http_version", "1.1") in _FRAMED_BY_LENGTH:
            # HTTP/1.x without Transfer-Encoding: the server reads exactly Content-Length bytes
            # (none without it), already checked above, so there is nothing to count.
            await self.app(scope, receive, send)
            return
        received = 0
        too_large = False

        async def counting_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    too_large = True
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            # The framework may turn our exception into its own error response; once the
            # body is known to be too large, that response is replaced by the 413.
            if not too_large:
                await send(message)

        with contextlib.suppress(_BodyTooLarge):
            await self.app(scope, counting_receive, guarded_send)
        if too_large:
            await self._reject(scope, send)
