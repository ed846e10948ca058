"""Deliberately insecure sample: unsafe deserialization of request data."""

import pickle


def load_session(blob: bytes) -> dict:
    return pickle.loads(blob)
