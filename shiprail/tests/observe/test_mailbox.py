"""The drill's SMTP relay: a real SMTP conversation (smtplib as the client), the login it
requires, and the email read the way the drill reads Slack messages."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from pathlib import Path

import pytest
import yaml
from observe_support import MONITORING

from shiprail.observe.drill.configs import alertmanager_config, free_port
from shiprail.observe.drill.mailbox import Mail, Mailbox
from shiprail.observe.drill.receiver import parse_mail

RUNBOOK = "https://example.invalid/docs/runbooks/HighResponseTime.md"


def _alert_mail(status: str) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = f"[{status}] HighResponseTime (warning) workorders in drill"
    message["From"] = "alertmanager@shiprail.invalid"
    message["To"] = "oncall@shiprail.invalid"
    message.set_content(
        f"*p95 latency 975ms*\nslow\nRunbook: {RUNBOOK}\n"
        "Labels: alertname=HighResponseTime environment=drill service=workorders "
        "severity=warning \n"
    )
    message.add_alternative(f'<p><a href="{RUNBOOK}">Runbook</a></p>', subtype="html")
    return message


def test_mailbox_accepts_a_logged_in_message_and_refuses_a_wrong_password() -> None:
    received: list[Mail] = []
    with Mailbox(
        port=free_port(), username="alertmanager", password="right", on_mail=received.append
    ) as mailbox:
        with smtplib.SMTP(mailbox.host, mailbox.port, timeout=10) as client:
            client.ehlo()
            # PLAIN only: Alertmanager's LOGIN client does not understand aiosmtpd's prompts
            assert client.esmtp_features["auth"].split() == ["PLAIN"]
            with pytest.raises(smtplib.SMTPException):
                client.login("alertmanager", "wrong")
        with (
            smtplib.SMTP(mailbox.host, mailbox.port, timeout=10) as client,
            pytest.raises(smtplib.SMTPException),  # no login, no mail
        ):
            client.send_message(_alert_mail("FIRING:1"))
        with smtplib.SMTP(mailbox.host, mailbox.port, timeout=10) as client:
            client.login("alertmanager", "right")
            client.send_message(_alert_mail("FIRING:1"))
    assert mailbox.failed_logins == ["alertmanager"]
    (mail,) = received
    assert mail.login == "alertmanager"
    assert mail.recipients == ("oncall@shiprail.invalid",)
    assert f'href="{RUNBOOK}"' in mail.html

    note = parse_mail(mail)
    assert (note.channel, note.alertname, note.severity, note.status) == (
        "email",
        "HighResponseTime",
        "warning",
        "firing",
    )
    assert note.runbook_url == RUNBOOK
    assert note.labels["environment"] == "drill" and note.labels["severity"] == "warning"


def test_resolved_mail_is_read_as_resolved() -> None:
    raw = _alert_mail("RESOLVED").as_bytes()
    from shiprail.observe.drill.mailbox import decode

    subject, text, html = decode(raw)
    note = parse_mail(Mail(1.0, "a@b", ("c@d",), subject, text, html, "alertmanager"))
    assert (note.alertname, note.status) == ("HighResponseTime", "resolved")


def test_drill_config_points_email_at_the_local_relay_with_the_password_file(
    tmp_path: Path,
) -> None:
    committed_text = (MONITORING / "alertmanager" / "alertmanager.yml").read_text()
    config = yaml.safe_load(
        alertmanager_config(
            committed_text,
            receiver_url="http://127.0.0.1:9",
            secrets_dir=tmp_path,
            templates_dir=MONITORING / "alertmanager" / "templates",
            smtp_smarthost="127.0.0.1:2525",
            smtp_password="pw",
        )
    )
    committed = yaml.safe_load(committed_text)
    assert config["global"]["smtp_smarthost"] == "127.0.0.1:2525"
    assert config["global"]["smtp_auth_username"] == committed["global"]["smtp_auth_username"]
    # Alertmanager 0.25 sends the file's bytes as they are: no trailing newline
    assert (tmp_path / "smtp-password").read_text() == "pw"
    assert "pw" not in yaml.safe_dump(config)
    # the committed email receiver is kept as it is (recipient, resolved notices, templates)
    (warning,) = [r for r in config["receivers"] if r["name"] == "warning"]
    (committed_warning,) = [r for r in committed["receivers"] if r["name"] == "warning"]
    assert warning["email_configs"] == committed_warning["email_configs"]
    assert warning["email_configs"][0]["send_resolved"] is True
