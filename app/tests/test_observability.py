"""The hot-path shortcuts keep the service's promises: the access line is the line the
generic formatter writes, preset security headers yield to a handler's own, and the body
limit still counts bodies whose length the server does not frame."""

from __future__ import annotations

import asyncio
import json
import logging
import logging.handlers
import time

import pytest

from workorders.middleware import BodyLimitMiddleware, SecurityHeadersMiddleware
from workorders.observability import ACCESS_FIELDS, AccessRecord, JsonFormatter


@pytest.mark.parametrize(
    "fields",
    [
        ("abc", "GET", "/health", 200, 0.0),
        ("f" * 32, "POST", "/api/v1/workorders/{workorder_id}", 201, 12.35),
        ("r-1", 'G\u00e9T"\\', "unmatched", 404, 1e-05),
        ("r.2", "PATCH", "/", 500, 123456789.12),
    ],
)
def test_access_line_is_what_the_generic_formatter_writes(fields: tuple) -> None:
    formatter = JsonFormatter()
    formatter.converter = time.gmtime
    record = AccessRecord(fields)
    generic = logging.LogRecord("workorders.access", logging.INFO, __file__, 1, "request", (), None)
    generic.__dict__.update(dict(zip(ACCESS_FIELDS, fields, strict=True)))
    generic.created, generic.msecs = record.created, record.msecs
    assert formatter.format(record) == formatter.format(generic)
    assert json.loads(formatter.format(record))["method"] == fields[1]
    assert record.name == "workorders.access" and record.levelname == "INFO"
    assert record.process and record.thread


def _run(app, scope: dict, body_chunks: list[bytes]) -> list[dict]:
    sent: list[dict] = []
    messages = [
        {"type": "http.request", "body": chunk, "more_body": n < len(body_chunks) - 1}
        for n, chunk in enumerate(body_chunks)
    ]

    async def receive() -> dict:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


def _scope(**extra: object) -> dict:
    return {"type": "http", "method": "POST", "path": "/api", "headers": [], **extra}


async def _echo(scope, receive, send) -> None:
    size = 0
    while True:
        message = await receive()
        size += len(message.get("body", b""))
        if not message.get("more_body"):
            break
    headers = [(b"cache-control", b"max-age=60")] if scope["path"] == "/cached" else []
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": str(size).encode()})


def test_a_handlers_own_security_header_wins() -> None:
    sent = _run(SecurityHeadersMiddleware(_echo), _scope(path="/cached"), [b""])
    headers = sent[0]["headers"]
    assert headers.count((b"cache-control", b"max-age=60")) == 1
    assert all(name != b"cache-control" or value == b"max-age=60" for name, value in headers)
    assert (b"x-frame-options", b"DENY") in headers
    plain = _run(SecurityHeadersMiddleware(_echo), _scope(), [b""])[0]["headers"]
    assert (b"cache-control", b"no-store") in plain


@pytest.mark.parametrize(
    "scope",
    [
        _scope(http_version="2"),  # HTTP/2: a body may come without Content-Length
        _scope(headers=[(b"transfer-encoding", b"chunked")]),
    ],
)
def test_bodies_without_length_framing_are_still_counted(scope: dict) -> None:
    sent = _run(BodyLimitMiddleware(_echo, max_body_bytes=1024), scope, [b"x" * 600] * 2)
    assert sent[0]["status"] == 413


def test_framed_bodies_within_the_limit_pass_untouched() -> None:
    scope = _scope(http_version="1.1", headers=[(b"content-length", b"600")])
    sent = _run(BodyLimitMiddleware(_echo, max_body_bytes=1024), scope, [b"x" * 600])
    assert sent[0]["status"] == 200 and sent[1]["body"] == b"600"


def test_the_direct_access_line_is_the_line_the_logging_chain_writes() -> None:
    """``log_access`` skips the LogRecord when only the service's handler would see the line;
    the line must be the one the generic path writes, and an added handler still gets it."""
    import io

    from workorders import observability

    observability.configure_logging("INFO")
    service_log = logging.getLogger("workorders")
    handler = service_log.handlers[0]
    stream = io.StringIO()
    handler.setStream(stream)  # type: ignore[attr-defined]
    fields = ("r-1", "GET", "/health", 200, 0.00123)
    observability.log_access(*fields)
    direct = json.loads(stream.getvalue())
    extra = logging.handlers.BufferingHandler(10)
    observability.access_log.addHandler(extra)
    try:
        observability.log_access(*fields)
    finally:
        observability.access_log.removeHandler(extra)
    generic_line = stream.getvalue().splitlines()[1]
    generic = json.loads(generic_line)
    assert len(extra.buffer) == 1 and isinstance(extra.buffer[0], AccessRecord)
    assert direct.keys() == generic.keys()
    assert {k: v for k, v in direct.items() if k != "ts"} == {
        k: v for k, v in generic.items() if k != "ts"
    }
    assert direct["duration_ms"] == 1.23 and direct["ts"].endswith("Z")
    observability.access_log.setLevel(logging.WARNING)
    try:
        observability.log_access(*fields)
    finally:
        observability.access_log.setLevel(logging.NOTSET)
    assert len(stream.getvalue().splitlines()) == 2
