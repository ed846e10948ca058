"""The work orders resource: create, read, list, update and status transitions."""

from __future__ import annotations

import re
import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response, status
from pydantic import TypeAdapter
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from workorders import queries
from workorders.api.deps import MetricsDep, SessionDep, WriterDep
from workorders.errors import APIError
from workorders.models import (
    ALLOWED_TRANSITIONS,
    Category,
    Priority,
    Status,
    WorkOrder,
    new_id,
    utcnow,
)
from workorders.schemas import (
    DEFAULT_PAGE_LIMIT,
    MAX_PAGE_LIMIT,
    ErrorResponse,
    TransitionRequest,
    WorkOrderCreate,
    WorkOrderPage,
    WorkOrderPublic,
    WorkOrderUpdate,
)

_ERRORS = {"model": ErrorResponse}
_PAGE = TypeAdapter(WorkOrderPage)
router = APIRouter(
    prefix="/api/v1/workorders",
    tags=["workorders"],
    responses={422: {**_ERRORS, "description": "Invalid input; details name each field"}},
)
WRITE_ERRORS: dict[int | str, dict[str, object]] = {
    400: {**_ERRORS, "description": "The body cannot be decoded (not UTF-8 JSON)"},
    401: {**_ERRORS, "description": "Missing or invalid bearer token"},
    413: {**_ERRORS, "description": "Request body too large"},
}
WorkOrderId = Annotated[uuid.UUID, "the work order's id"]
_ETAG_VALUE = re.compile(r'^\s*(?:W/)?"?(\d{1,18})"?\s*$')


def _json(body: bytes, status_code: int = 200, *headers: tuple[bytes, bytes]) -> Response:
    """The response FastAPI would build from the ``response_model``, already serialised.

    The hot endpoints validate and serialise once themselves (pydantic's core straight to
    JSON bytes) instead of letting FastAPI validate the returned model a second time; the
    bytes and the header order are the ones FastAPI's own path produces.
    """
    response = Response(body, status_code, media_type="application/json")
    response.raw_headers.extend(headers)
    return response


def etag_for(order: WorkOrder) -> str:
    return f'"{order.version}"'


def _load(session: Session, workorder_id: uuid.UUID) -> WorkOrder:
    order = session.get(WorkOrder, str(workorder_id))
    if order is None:
        raise APIError(
            404,
            "not_found",
            f"work order {workorder_id} does not exist",
            [{"field": "path.workorder_id", "problem": "no such work order"}],
        )
    return order


def _check_if_match(if_match: str | None, order: WorkOrder, *, required: bool) -> None:
    """Optimistic concurrency: the client must name the version it read (RFC 9110 If-Match)."""
    if if_match is None:
        if required:
            raise APIError(
                428,
                "precondition_required",
                "updates need an 'If-Match' header with the ETag from GET",
                [{"field": "header.if-match", "problem": "missing"}],
            )
        return
    candidates = [part for part in if_match.split(",") if part.strip()]
    if any(part.strip() == "*" for part in candidates):
        return
    versions = {m.group(1) for m in map(_ETAG_VALUE.match, candidates) if m}
    if str(order.version) not in {v.lstrip("0") or "0" for v in versions}:
        raise APIError(
            412,
            "precondition_failed",
            f"work order {order.id} has changed: current ETag is {etag_for(order)}; "
            "GET it again and retry",
            [{"field": "header.if-match", "problem": "stale or unknown version"}],
            {"ETag": etag_for(order)},
        )


def _flush(session: Session, order: WorkOrder) -> None:
    try:
        session.flush()
    except StaleDataError:
        session.rollback()
        raise APIError(
            412,
            "precondition_failed",
            f"work order {order.id} was changed concurrently; GET it again and retry",
            [{"field": "header.if-match", "problem": "stale version"}],
        ) from None


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=WorkOrderPublic,
    dependencies=[WriterDep],
    responses=WRITE_ERRORS,
    summary="Create a work order (needs a bearer token)",
)
async def create_workorder(
    payload: WorkOrderCreate,
    metrics: MetricsDep,
    request: Request,
) -> Response:
    now = utcnow()
    values = {
        "id": new_id(),
        "status": Status.open,
        "created_at": now,
        "updated_at": now,
        "version": 1,
        **payload.model_dump(),
    }
    state = request.app.state
    await queries.in_thread(state, queries.insert_one, state.engine, values, state.write_lock)
    metrics.created.labels(payload.category.value).inc()
    location = str(request.url_for("get_workorder", workorder_id=values["id"]))
    return _json(
        WorkOrderPublic.model_validate(values).model_dump_json().encode(),
        status.HTTP_201_CREATED,
        (b"location", location.encode("latin-1")),
        (b"etag", b'"1"'),
    )


@router.get(
    "",
    response_model=WorkOrderPage,
    summary=f"List work orders, newest first (limit at most {MAX_PAGE_LIMIT})",
)
async def list_workorders(
    request: Request,
    status_filter: Annotated[Status | None, Query(alias="status")] = None,
    category: Category | None = None,
    priority: Priority | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_LIMIT)] = DEFAULT_PAGE_LIMIT,
    cursor: Annotated[
        uuid.UUID | None,
        Query(description="The `next_cursor` of the previous page (items older than it)."),
    ] = None,
) -> Response:
    filters = {"status": status_filter, "category": category, "priority": priority}
    rows = await queries.in_thread(
        request.app.state,
        queries.list_page,
        request.app.state.engine,
        filters,
        None if cursor is None else str(cursor),
        limit + 1,
    )
    next_cursor = rows[limit - 1].id if len(rows) > limit else None
    # One validation of the whole page in pydantic's core, not one model per row.
    page = _PAGE.validate_python({"items": rows[:limit], "next_cursor": next_cursor})
    return _json(_PAGE.dump_json(page))


@router.get(
    "/{workorder_id}",
    response_model=WorkOrderPublic,
    responses={404: {**_ERRORS, "description": "No such work order"}},
    summary="Read one work order (the ETag header carries its version)",
)
def get_workorder(workorder_id: uuid.UUID, session: SessionDep, response: Response) -> WorkOrder:
    order = _load(session, workorder_id)
    response.headers["ETag"] = etag_for(order)
    return order


@router.patch(
    "/{workorder_id}",
    response_model=WorkOrderPublic,
    dependencies=[WriterDep],
    responses={
        **WRITE_ERRORS,
        404: {**_ERRORS, "description": "No such work order"},
        412: {**_ERRORS, "description": "If-Match does not match the current version"},
        428: {**_ERRORS, "description": "If-Match header missing"},
    },
    summary="Change fields of a work order (needs a bearer token and If-Match)",
)
def update_workorder(
    workorder_id: uuid.UUID,
    payload: WorkOrderUpdate,
    session: SessionDep,
    response: Response,
    if_match: Annotated[str | None, Header(max_length=200)] = None,
) -> WorkOrder:
    order = _load(session, workorder_id)
    _check_if_match(if_match, order, required=True)
    changes = payload.model_dump(exclude_unset=True)
    for field, value in changes.items():
        if value is None:
            raise APIError(
                422,
                "validation_error",
                f"invalid request: {field}: may not be null",
                [{"field": field, "problem": "may not be null"}],
            )
        setattr(order, field, value)
    if changes:
        order.updated_at = utcnow()
        _flush(session, order)
    response.headers["ETag"] = etag_for(order)
    return order


@router.post(
    "/{workorder_id}/transitions",
    response_model=WorkOrderPublic,
    dependencies=[WriterDep],
    responses={
        **WRITE_ERRORS,
        404: {**_ERRORS, "description": "No such work order"},
        409: {**_ERRORS, "description": "The status machine does not allow this move"},
        412: {**_ERRORS, "description": "If-Match (optional) does not match"},
    },
    summary="Move a work order to another status (needs a bearer token)",
)
def transition_workorder(
    workorder_id: uuid.UUID,
    payload: TransitionRequest,
    session: SessionDep,
    response: Response,
    if_match: Annotated[str | None, Header(max_length=200)] = None,
) -> WorkOrder:
    order = _load(session, workorder_id)
    _check_if_match(if_match, order, required=False)
    allowed = ALLOWED_TRANSITIONS[order.status]
    if payload.to not in allowed:
        names = ", ".join(s.value for s in allowed) or "none (final status)"
        raise APIError(
            409,
            "invalid_transition",
            f"cannot move from {order.status.value} to {payload.to.value}; "
            f"allowed from {order.status.value}: {names}",
            [{"field": "to", "problem": f"allowed: {names}"}],
        )
    order.status = payload.to
    order.updated_at = utcnow()
    _flush(session, order)
    response.headers["ETag"] = etag_for(order)
    return order
