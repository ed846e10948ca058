"""Property-based API testing from the OpenAPI schema: no 5xx, no schema violations.

Schemathesis generates valid (positive) and invalid (negative) requests for every
operation; writes carry a valid token so they reach the handlers. Runs on SQLite and
PostgreSQL, driven through schemathesis' Python API with Hypothesis.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from workorders.main import create_app

from conftest import AUTH, make_settings

EXAMPLES_PER_OPERATION = 40


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_api_conforms_to_its_schema(database_url, mode):
    # The production surface: stage has no dev-only debug endpoints.
    app = create_app(make_settings(database_url, env="stage"))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 8

    for operation in operations:
        raw = operation.definition.raw
        has_input = raw.get("parameters") or raw.get("requestBody")
        if mode is GenerationMode.NEGATIVE and not has_input:
            continue  # no input, so no invalid input to send

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def check(case):
            case.call_and_validate(headers=AUTH)

        try:
            check()
        except Exception as exc:
            raise AssertionError(f"{operation.method.upper()} {operation.path}: {exc}") from exc
