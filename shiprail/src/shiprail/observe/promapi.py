"""A small client for the Prometheus HTTP API (instant queries, rules, alerts).

The one boundary where httpx errors become shiprail errors: an unreachable server or an
API error is a :class:`ToolCrashed` (exit 3) naming the URL, a bad query a
:class:`UsageError`. Tests pass an ``httpx.MockTransport`` through ``transport``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import httpx

from shiprail.errors import ToolCrashed, UsageError

#: Time limit for one API call, in seconds.
DEFAULT_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class Sample:
    """One element of an instant vector."""

    labels: dict[str, str]
    value: float


class PrometheusAPI:
    """Reads from one Prometheus server."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = httpx.Client(base_url=self.base_url, timeout=timeout, transport=transport)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> PrometheusAPI:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _get(self, path: str, params: dict[str, str] | None = None) -> Any:
        try:
            response = self._client.get(path, params=params)
        except httpx.HTTPError as exc:
            raise ToolCrashed(
                f"Prometheus at {self.base_url} cannot be reached: {type(exc).__name__}",
                hint="check --prometheus-url (SHIPRAIL_PROMETHEUS_URL) and that it is running",
            ) from exc
        try:
            body = response.json()
        except ValueError as exc:
            raise ToolCrashed(
                f"Prometheus at {self.base_url} answered {response.status_code} without JSON"
            ) from exc
        if body.get("status") != "success":
            error = body.get("error", "unknown error")
            if body.get("errorType") in {"bad_data"}:
                raise UsageError(f"Prometheus refused the query: {error}")
            raise ToolCrashed(f"Prometheus at {self.base_url} failed: {error}")
        return body.get("data")

    def query(self, expr: str) -> list[Sample]:
        """Evaluate ``expr`` now; scalars come back as one sample without labels."""
        data = self._get("/api/v1/query", {"query": expr})
        kind = data.get("resultType")
        if kind == "vector":
            return [
                Sample(dict(item.get("metric", {})), float(item["value"][1]))
                for item in data.get("result", [])
            ]
        if kind == "scalar":
            return [Sample({}, float(data["result"][1]))]
        raise UsageError(f"query returned a {kind}, not an instant vector: {expr}")

    def query_value(self, expr: str) -> float | None:
        """The single value of ``expr``, or None when it has no (finite) result."""
        samples = self.query(expr)
        if not samples or math.isnan(samples[0].value):
            return None
        return samples[0].value

    def alerts(self) -> list[dict[str, Any]]:
        """Active alerts as Prometheus sees them (pending and firing)."""
        data = self._get("/api/v1/alerts")
        return list(data.get("alerts", []))

    def rules(self) -> list[dict[str, Any]]:
        data = self._get("/api/v1/rules")
        return list(data.get("groups", []))
