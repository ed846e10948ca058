"""Tell Alertmanager (and the Grafana annotations fed from it) that a canary was aborted.

A ``ShiprailCanaryAborted`` alert with the environment and release as labels and the reason
as an annotation, ending a few minutes later on its own: an event to see on a dashboard and
in a notification, not a condition to resolve. Alertmanager being down never fails a deploy:
the abort already happened, and the ledger holds the reason either way.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx

from shiprail.deploy.records import utcnow

ALERT_NAME = "ShiprailCanaryAborted"
#: How long the alert stays active before Alertmanager resolves it by itself.
ALERT_DURATION = timedelta(minutes=5)
POST_TIMEOUT_SECONDS = 5.0


def canary_aborted_alert(
    environment: str, release_id: str, reason: str, now: datetime | None = None
) -> dict[str, object]:
    start = now or utcnow()
    return {
        "labels": {
            "alertname": ALERT_NAME,
            "environment": environment,
            "release": release_id,
            "severity": "warning",
            "service": "shiprail",
        },
        "annotations": {
            "summary": f"canary {release_id} aborted in {environment}",
            "description": reason,
        },
        "startsAt": start.isoformat(),
        "endsAt": (start + ALERT_DURATION).isoformat(),
    }


def post_canary_aborted(
    url: str,
    environment: str,
    release_id: str,
    reason: str,
    *,
    transport: httpx.BaseTransport | None = None,
) -> str | None:
    """POST the alert to ``<url>/api/v2/alerts``; returns None, or why it could not be sent."""
    alert = canary_aborted_alert(environment, release_id, reason)
    try:
        with httpx.Client(timeout=POST_TIMEOUT_SECONDS, transport=transport) as client:
            response = client.post(url.rstrip("/") + "/api/v2/alerts", json=[alert])
    except httpx.HTTPError as exc:
        return f"Alertmanager at {url} cannot be reached ({type(exc).__name__})"
    if response.status_code >= 300:
        return f"Alertmanager at {url} answered {response.status_code}"
    return None
