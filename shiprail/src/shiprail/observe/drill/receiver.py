"""The stand-ins for Slack and PagerDuty, and notifications read the way a human reads them.

A local HTTP server receives what Alertmanager sends to the Slack webhook and the PagerDuty
Events API; the SMTP mailbox (``mailbox.py``) receives email. Every message becomes a
:class:`Notification` with what the on-call engineer would see: the alert's name, severity and
status from the title, the runbook link and the label line the committed templates write.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from shiprail.observe.drill.mailbox import Mail


@dataclass(frozen=True)
class Notification:
    at: float
    channel: str  # "slack", "pagerduty" or "email"
    alertname: str
    severity: str
    status: str  # "firing" or "resolved"
    runbook_url: str
    labels: dict[str, str]
    payload: dict[str, Any]


_TITLE = re.compile(r"^\[(FIRING|RESOLVED)(?::\d+)?\] (\S+) \((\w+)\)")


def _title(title: str) -> tuple[str, str, str]:
    """(status, alertname, severity) from a title such as ``[FIRING:1] X (critical) ...``."""
    match = _TITLE.match(title)
    return (match.group(1).lower(), match.group(2), match.group(3)) if match else ("?", "?", "?")


def _labels_line(text: str) -> dict[str, str]:
    for line in text.splitlines():
        if line.startswith("Labels: "):
            return dict(
                pair.split("=", 1) for pair in line.removeprefix("Labels: ").split() if "=" in pair
            )
    return {}


def parse_notification(channel: str, payload: dict[str, Any], at: float) -> Notification:
    """Read what a human would see: the title, the runbook link and the label line."""
    if channel == "slack":
        attachment = (payload.get("attachments") or [{}])[0]
        title = str(attachment.get("title", ""))
        runbook = str(attachment.get("title_link", ""))
        labels = _labels_line(str(attachment.get("text", "")))
    else:
        title = str(payload.get("payload", {}).get("summary", ""))
        details = payload.get("payload", {}).get("custom_details", {})
        runbook = str(details.get("runbook_url", ""))
        labels = {
            "service": str(details.get("service", "")),
            "environment": str(details.get("environment", "")),
        }
        if payload.get("event_action") == "resolve":
            title = title.replace("[FIRING", "[RESOLVED", 1)
    status, alertname, severity = _title(title)
    if channel == "pagerduty" and payload.get("event_action") == "resolve":
        status = "resolved"
    return Notification(at, channel, alertname, severity, status, runbook, labels, payload)


def parse_mail(mail: Mail) -> Notification:
    """An email read like the Slack message: subject as title, runbook and labels from the
    text part (the committed template writes both), the HTML part kept for its link."""
    status, alertname, severity = _title(mail.subject)
    runbook = next(
        (
            line.removeprefix("Runbook: ").strip()
            for line in mail.text.splitlines()
            if line.startswith("Runbook: ")
        ),
        "",
    )
    payload = {
        "subject": mail.subject,
        "to": list(mail.recipients),
        "from": mail.mail_from,
        "login": mail.login,
        "text": mail.text,
        "html": mail.html,
    }
    return Notification(
        mail.at, "email", alertname, severity, status, runbook, _labels_line(mail.text), payload
    )


class Receiver:
    """A local HTTP server recording every Slack and PagerDuty call it gets.

    ``clock`` stamps each arrival; it must be the clock the drill measures delays with.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.notifications: list[Notification] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0") or 0))
                channel = "pagerduty" if self.path.startswith("/pagerduty") else "slack"
                try:
                    payload = json.loads(body)
                except ValueError:
                    payload = {}
                receiver.record(parse_notification(channel, payload, clock()))
                answer = b'{"status":"success"}' if channel == "pagerduty" else b"ok"
                self.send_response(202 if channel == "pagerduty" else 200)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *_: object) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def record(self, notification: Notification) -> None:
        """Add a notification (an HTTP call, or one that came by the SMTP mailbox)."""
        with self._lock:
            self.notifications.append(notification)

    def received(self) -> list[Notification]:
        """A snapshot of everything received so far, safe to read while more arrives."""
        with self._lock:
            return list(self.notifications)
