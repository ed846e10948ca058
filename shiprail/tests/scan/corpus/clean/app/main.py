"""A clean sample: parameterised SQL, no shell, verified TLS."""

import subprocess

import httpx
from sqlalchemy import text
from sqlalchemy.orm import Session


def find_orders(session: Session, customer: str) -> list:
    query = text("SELECT id FROM workorders WHERE customer = :customer")
    return list(session.execute(query, {"customer": customer}))


def git_version() -> str:
    return subprocess.run(["git", "--version"], capture_output=True, text=True, check=True).stdout


def fetch(url: str) -> bytes:
    return httpx.get(url, timeout=10).content
