"""API errors and the handlers that turn every failure into the same JSON body.

Shape: ``{"error": {"code", "message", "details": [{"field", "problem"}], "request_id"}}``.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger("workorders.errors")


class APIError(Exception):
    """An expected failure with its HTTP status, a stable code and a readable message."""

    def __init__(
        self,
        status_code: int,
        code: str,
        message: str,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message
        self.details = details or []
        self.headers = headers


def error_response(
    request: Request,
    status_code: int,
    code: str,
    message: str,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = {
        "error": {
            "code": code,
            "message": message,
            "details": details or [],
            "request_id": getattr(request.state, "request_id", None),
        }
    }
    return JSONResponse(body, status_code=status_code, headers=headers)


_UNION_TAG = re.compile(r"[\[\-]|^(str|none|int|float|bool)$")


def _field_name(location: tuple[Any, ...]) -> str:
    # Pydantic adds union member tags (``str-enum[Priority]``, ``none``) to body locations.
    parts = [str(part) for part in location]
    if parts and parts[0] == "body":
        parts = [part for part in parts if not _UNION_TAG.search(part)]
    if parts and parts[0] in {"body", "query", "path", "header"} and len(parts) > 1:
        return ".".join(parts[1:]) if parts[0] == "body" else f"{parts[0]}.{'.'.join(parts[1:])}"
    return ".".join(parts) or "body"


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    details = []
    for error in exc.errors():
        problem = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
        if error.get("type") == "extra_forbidden":
            problem = "unknown field"
        elif error.get("type") == "json_invalid":
            problem = f"malformed JSON: {error.get('ctx', {}).get('error', 'cannot be parsed')}"
        details.append({"field": _field_name(tuple(error.get("loc", ()))), "problem": problem})
    return details


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(APIError)
    async def _api_error(request: Request, exc: APIError) -> JSONResponse:
        return error_response(
            request, exc.status_code, exc.code, exc.message, exc.details, exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        details = _validation_details(exc)
        summary = "; ".join(f"{d['field']}: {d['problem']}" for d in details[:3])
        return error_response(
            request, 422, "validation_error", f"invalid request: {summary}", details
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {
            400: "malformed_body",
            404: "not_found",
            405: "method_not_allowed",
            413: "payload_too_large",
        }
        details = []
        message = str(exc.detail)
        if exc.status_code == 400:
            # FastAPI's "error parsing the body": bytes that are not UTF-8 JSON.
            message = "the request body cannot be decoded: send UTF-8 encoded JSON"
            details = [{"field": "body", "problem": "not UTF-8 encoded JSON"}]
        return error_response(
            request,
            exc.status_code,
            codes.get(exc.status_code, "http_error"),
            message,
            details,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Never echo the exception: it may hold SQL, paths or secrets.
        logger.exception("unhandled error", extra={"request_id": request.state.request_id})
        return error_response(request, 500, "internal_error", "internal server error")
