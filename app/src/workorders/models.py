"""Tables and the domain rules that belong to them (the status machine)."""

from __future__ import annotations

import enum
import secrets
import time
import uuid
from datetime import UTC, datetime

from sqlalchemy import DateTime, Enum, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from workorders.db import Base


class Category(enum.StrEnum):
    plumbing = "plumbing"
    electrical = "electrical"
    hvac = "hvac"
    appliance = "appliance"
    general = "general"


class Priority(enum.StrEnum):
    low = "low"
    normal = "normal"
    high = "high"
    urgent = "urgent"


class Status(enum.StrEnum):
    open = "open"
    scheduled = "scheduled"
    in_progress = "in_progress"
    done = "done"
    cancelled = "cancelled"


#: The status machine: which statuses each status may move to.
ALLOWED_TRANSITIONS: dict[Status, tuple[Status, ...]] = {
    Status.open: (Status.scheduled, Status.cancelled),
    Status.scheduled: (Status.in_progress, Status.cancelled),
    Status.in_progress: (Status.done, Status.cancelled),
    Status.done: (),
    Status.cancelled: (),
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    """A UUIDv7 (RFC 9562): time-ordered, so ids sort newest-last and serve as list cursors."""
    millis = time.time_ns() // 1_000_000
    value = (millis & ((1 << 48) - 1)) << 80 | secrets.randbits(80)
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 9562 variant
    return str(uuid.UUID(int=value))


def _enum(enum_type: type[enum.Enum], name: str) -> Enum:
    # Stored as plain strings (no native DB enum) so adding a value is a simple migration.
    return Enum(enum_type, name=name, native_enum=False, length=20, validate_strings=True)


class WorkOrder(Base):
    __tablename__ = "work_orders"
    __table_args__ = (
        Index("ix_work_orders_created_id", "created_at", "id"),
        Index("ix_work_orders_status", "status"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    property_ref: Mapped[str] = mapped_column(String(64), nullable=False)
    category: Mapped[Category] = mapped_column(_enum(Category, "category"), nullable=False)
    priority: Mapped[Priority] = mapped_column(_enum(Priority, "priority"), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    status: Mapped[Status] = mapped_column(
        _enum(Status, "status"), nullable=False, default=Status.open
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}
