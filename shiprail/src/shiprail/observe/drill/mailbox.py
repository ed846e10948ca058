"""A local SMTP server standing in for the mail relay, so the drill can prove email delivery.

Alertmanager's email receiver needs a real SMTP conversation (EHLO, AUTH, MAIL, RCPT, DATA).
aiosmtpd speaks it on loopback, and the mailbox records every message it accepts. It requires
the login Alertmanager is configured with (the committed ``smtp_auth_username`` and the
password file), so a password file Alertmanager cannot read, or reads wrongly, fails the
drill the way it would fail against the real relay.
"""

from __future__ import annotations

import email
import email.policy
import hmac
import logging
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: How long aiosmtpd may take to answer its own start-up probe on a busy runner.
READY_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class Mail:
    """One accepted message, decoded: what the on-call engineer would read."""

    at: float
    mail_from: str
    recipients: tuple[str, ...]
    subject: str
    text: str
    html: str
    login: str


def decode(raw: bytes) -> tuple[str, str, str]:
    """(subject, text part, html part) of a MIME message."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    subject = str(message.get("Subject", ""))
    text = html = ""
    for part in message.walk():
        if part.is_multipart():
            continue
        kind = part.get_content_type()
        payload = part.get_content() if hasattr(part, "get_content") else ""
        if kind == "text/plain" and not text:
            text = str(payload)
        elif kind == "text/html" and not html:
            html = str(payload)
    return subject, text, html


class Mailbox:
    """An authenticating SMTP server on loopback; ``on_mail`` is called for every message."""

    def __init__(
        self,
        *,
        port: int,
        username: str,
        password: str,
        on_mail: Callable[[Mail], None] = lambda _: None,
        host: str = "127.0.0.1",
    ) -> None:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword

        # aiosmtpd warns (per connection) that AUTH without TLS is unsafe: true in general,
        # moot on loopback; and it logs every SMTP line on its own logger.
        warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
        logging.getLogger("mail.log").addHandler(logging.NullHandler())
        logging.getLogger("mail.log").propagate = False
        self.host = host
        self.port = port
        self.mails: list[Mail] = []
        self.failed_logins: list[str] = []
        self._lock = threading.Lock()
        mailbox = self

        def authenticator(
            _server: Any, session: Any, _envelope: Any, _mechanism: str, data: Any
        ) -> Any:
            if not isinstance(data, LoginPassword):
                return AuthResult(success=False, handled=False)
            login = data.login.decode(errors="replace")
            ok = login == username and hmac.compare_digest(data.password, password.encode())
            if ok:
                session.shiprail_login = login
            else:
                with mailbox._lock:
                    mailbox.failed_logins.append(login)
            return AuthResult(success=ok, handled=False)  # aiosmtpd answers 235 or 535

        class Handler:
            async def handle_DATA(self, _server: Any, session: Any, envelope: Any) -> str:
                raw = envelope.original_content or envelope.content or b""
                subject, text, html = decode(raw if isinstance(raw, bytes) else raw.encode())
                mail = Mail(
                    at=time.monotonic(),
                    mail_from=str(envelope.mail_from),
                    recipients=tuple(str(r) for r in envelope.rcpt_tos),
                    subject=subject,
                    text=text,
                    html=html,
                    login=str(getattr(session, "shiprail_login", "")),
                )
                with mailbox._lock:
                    mailbox.mails.append(mail)
                on_mail(mail)
                return "250 Message accepted for delivery"

        self._controller = Controller(
            Handler(),
            hostname=host,
            port=port,
            ready_timeout=READY_TIMEOUT_SECONDS,
            authenticator=authenticator,
            auth_required=True,
            auth_require_tls=False,  # loopback only; Go's SMTP client allows PLAIN there
            # aiosmtpd's LOGIN prompts ("User Name") are not the "Username:" that
            # Alertmanager's LOGIN client expects; PLAIN is what relays offer it in practice.
            auth_exclude_mechanism=["LOGIN"],
        )

    @property
    def smarthost(self) -> str:
        return f"{self.host}:{self.port}"

    def __enter__(self) -> Mailbox:
        self._controller.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._controller.stop()
