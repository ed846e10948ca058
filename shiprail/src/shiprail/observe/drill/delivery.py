"""What a delivered notification must show the on-call engineer, or the drill fails.

Every message links the alert's runbook; firing Slack and email messages carry the labels
the routes and the responder rely on; PagerDuty pages are critical; email went to the
committed recipients, after the SMTP login, with the runbook linked in the HTML part too.
"""

from __future__ import annotations

from collections.abc import Sequence

from shiprail.errors import Refused
from shiprail.observe.drill.receiver import Notification
from shiprail.observe.drill.scenario import Alert


def check_delivery(
    alert: Alert, found: Sequence[Notification], status: str, email_to: Sequence[str]
) -> None:
    """Raise :class:`Refused` naming the first notification of ``found`` that is wrong."""
    for note in found:
        if not note.runbook_url.endswith(f"docs/runbooks/{alert.alertname}.md"):
            raise Refused(
                f"{alert.alertname} {status} notification via {note.channel} links "
                f"'{note.runbook_url}', not docs/runbooks/{alert.alertname}.md"
            )
        if status == "firing" and note.channel in ("slack", "email"):
            wanted = {"severity": alert.severity, "service": "workorders", **alert.labels}
            wrong = {k: v for k, v in wanted.items() if note.labels.get(k) != v}
            if wrong:
                raise Refused(
                    f"{alert.alertname} notification has labels {note.labels}, wanted {wanted}"
                )
        if note.channel == "email":
            check_mail(alert, note, status, email_to)
        if note.channel == "pagerduty" and status == "firing":
            severity = note.payload.get("payload", {}).get("severity")
            if severity != "critical":
                raise Refused(f"PagerDuty event for {alert.alertname} has severity {severity}")


def check_mail(alert: Alert, note: Notification, status: str, email_to: Sequence[str]) -> None:
    """The message reached the committed recipients, logged in, and both parts link the
    runbook (text for mail readers, the HTML anchor for everyone else)."""
    mail = note.payload
    if sorted(mail["to"]) != list(email_to):
        raise Refused(f"{alert.alertname} email went to {mail['to']}, not {list(email_to)}")
    if not mail["login"]:
        raise Refused(f"{alert.alertname} email was accepted without the SMTP login")
    href = f'href="{note.runbook_url}"'
    if href not in mail["html"]:
        raise Refused(f"{alert.alertname} {status} email's HTML part has no {href}")
    if not mail["subject"].startswith(f"[{status.upper()}"):
        raise Refused(f"{alert.alertname} {status} email has the subject {mail['subject']!r}")
