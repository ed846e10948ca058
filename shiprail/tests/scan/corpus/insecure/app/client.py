"""Deliberately insecure sample: TLS verification disabled."""

import requests


def fetch_invoice(url: str) -> bytes:
    return requests.get(url, verify=False, timeout=10).content
