"""CSRF protection: every form carries the session's token, every state-changing request must
send it back (form field ``csrf_token`` or header ``X-CSRF-Token``, which htmx sets).

The token is random per session and kept server-side with it (synchroniser-token pattern);
SameSite=Strict cookies are the second line. The login form, which has no session yet, uses
a double-submit token: a random value in a short-lived SameSite cookie and in the form.
"""

from __future__ import annotations

import hmac
import secrets

FIELD = "csrf_token"
HEADER = "x-csrf-token"
LOGIN_COOKIE = "shiprail_login_csrf"


def new_token() -> str:
    return secrets.token_urlsafe(32)


def valid(expected: str | None, sent: str | None) -> bool:
    """Constant-time comparison; a missing value on either side is never valid."""
    if not expected or not sent:
        return False
    return hmac.compare_digest(expected.encode(), sent.encode())
