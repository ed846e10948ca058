"""Request and response bodies (``XCreate`` / ``XUpdate`` / ``XPublic``).

Every input model forbids unknown fields (422) and rejects text a database cannot store
(NUL, lone surrogates) so bad input is a 4xx, never a 500.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from pydantic.json_schema import SkipJsonSchema

from workorders.models import Category, Priority, Status

#: Largest page a list request may ask for (documented in the OpenAPI description).
MAX_PAGE_LIMIT = 100
DEFAULT_PAGE_LIMIT = 20


def _storable_text(value: str) -> str:
    """Refuse characters PostgreSQL and SQLite cannot store as UTF-8 text."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (no lone surrogates)") from None
    return value


#: One line of printable text that does not start with a space (no C0/C1 controls). The
#: rules live in the patterns so the OpenAPI schema states exactly what is accepted.
TITLE_PATTERN = r"^[^\x00-\x20\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
DESCRIPTION_PATTERN = r"^[^\x00]*$"
PROPERTY_REF_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._/\-]*$"


def as_utc(moment: datetime) -> datetime:
    """SQLite returns naive datetimes; every stored moment is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


UtcDatetime = Annotated[datetime, AfterValidator(as_utc)]
PropertyRef = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64, pattern=PROPERTY_REF_PATTERN),
    AfterValidator(_storable_text),
]
Title = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200, pattern=TITLE_PATTERN),
    AfterValidator(_storable_text),
]
Description = Annotated[
    str,
    StringConstraints(max_length=5000, pattern=DESCRIPTION_PATTERN),
    AfterValidator(_storable_text),
]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WorkOrderCreate(_Input):
    property_ref: PropertyRef = Field(description="Reference of the property, e.g. 'BLD-12/4B'.")
    category: Category
    priority: Priority = Priority.normal
    title: Title
    description: Description = ""


class WorkOrderUpdate(_Input):
    """Fields a PATCH may change; status changes go through transitions."""

    # Null is not a value here (the schema says so); omit a field to leave it unchanged.
    property_ref: PropertyRef | SkipJsonSchema[None] = None
    category: Category | SkipJsonSchema[None] = None
    priority: Priority | SkipJsonSchema[None] = None
    title: Title | SkipJsonSchema[None] = None
    description: Description | SkipJsonSchema[None] = None


class TransitionRequest(_Input):
    to: Status


class WorkOrderPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    property_ref: str
    category: Category
    priority: Priority
    title: str
    description: str
    status: Status
    created_at: UtcDatetime
    updated_at: UtcDatetime
    version: int


class WorkOrderPage(BaseModel):
    items: list[WorkOrderPublic]
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` to get the next page; null on the last page."
    )


class ErrorDetail(BaseModel):
    field: str | None = None
    problem: str


class ErrorBody(BaseModel):
    """The body of every 4xx/5xx answer."""

    code: str
    message: str
    details: list[ErrorDetail] = Field(default_factory=list)
    request_id: str | None = None


class ErrorResponse(BaseModel):
    error: ErrorBody
