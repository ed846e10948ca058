"""Deliberately insecure sample: SQL built by string formatting."""

from sqlalchemy import text
from sqlalchemy.orm import Session


def find_orders(session: Session, customer: str) -> list:
    query = f"SELECT * FROM workorders WHERE customer = '{customer}'"
    return list(session.execute(text(query)))


def find_by_status(cursor, status: str) -> list:
    cursor.execute("SELECT id FROM workorders WHERE status = '%s'" % status)  # noqa: UP031
    return cursor.fetchall()
