"""Repeated failed sign-ins from one address are refused at the edge: fail2ban's job, done
with nginx alone so it works wherever the edge runs (a remote engine, no host daemon).

Every refused credential (the edge's basic auth, or the service's 401 for a bad bearer
token; a request that carried none is not a failed sign-in) is sent once more, through a
second server of the site on a unix socket whose only extra rule is a per-address budget of
failures (``limit_req`` keyed on the client's address, which the first server passes
along). Within the budget the client sees the same 401 as before (basic auth asks again; a
token refusal is the service's own response, proxied again, body and headers untouched).
Beyond it every further failure is answered 429 without reaching the service, until the
budget refills: that is the ban.
Successful requests never touch the budget, so a banned address that signs in correctly is
served again; a password-guessing client gets ``AUTH_FAILURE_BURST`` guesses at once and
then ``AUTH_FAILURES_PER_MINUTE`` a minute.

The edge logs each such request with ``"auth":"failed"``; :func:`bans` reads those lines
back (``shiprail status`` shows the addresses refused, ``shiprail edge bans`` lists them),
and the Loki rule ``EdgeAuthBan`` alerts on them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

#: Failed sign-ins an address may make at once, then per minute.
AUTH_FAILURE_BURST = 10
AUTH_FAILURES_PER_MINUTE = 6
#: The status of a refused (banned) attempt.
BANNED_STATUS = 429
_ZONE_KEY = "$shiprail_auth_failure_key"
_ZONE_SIZE = "10m"
#: nginx refuses a reload that gives an existing zone another key or size, and keeps the
#: old configuration: the zone's name carries its definition, so a changed one is new.
ZONE = "shiprail_auth_" + hashlib.sha256(f"{_ZONE_KEY}:{_ZONE_SIZE}".encode()).hexdigest()[:8]


def auth_failure_zone() -> str:
    """The ``http``-level zone counting failed sign-ins per address (the edge sets the
    address in a header of its own on the second pass, see below). Only a request that
    carried credentials counts: a browser's first request, or a write sent without a token,
    is answered 401 without being a failed sign-in (an empty key is not counted)."""
    return (
        '    map $http_authorization $shiprail_auth_failure_key {\n        "" "";\n'
        "        default $http_x_shiprail_client;\n    }\n"
        '    map $http_authorization $shiprail_auth_outcome {\n        "" "challenged";\n'
        '        default "failed";\n    }\n'
        f"    limit_req_zone {_ZONE_KEY} zone={ZONE}:{_ZONE_SIZE} "
        f"rate={AUTH_FAILURES_PER_MINUTE}r/m;\n"
    )


def _socket(site: str) -> str:
    return f"/tmp/shiprail-{site}-auth.sock"  # noqa: S108 - the proxy's private tmpfs


def auth_failure_location(site: str, hidden: str, basic_auth: bool) -> str:
    """The named location a 401 is redirected to: the same request again, through the
    site's second server (nginx applies ``limit_req`` once per request, so the budget lives
    in a request of its own). ``hidden`` drops that server's copies of the edge headers;
    the site's basic auth, if any, is checked again there, after the budget."""
    auth = "            auth_basic off;\n" if basic_auth else ""
    return f"""
        location @shiprail_auth_failed {{
            set $shiprail_auth $shiprail_auth_outcome;
{auth}            proxy_pass http://unix:{_socket(site)}:;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Shiprail-Client $remote_addr;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Request-ID $shiprail_request_id;
            proxy_read_timeout 30s;
{hidden}
        }}
"""


def auth_failure_server(site: str, auth: str, target: str) -> str:
    """The site's second server, on a unix socket only the proxy reaches: the budget, then
    the site's own sign-in rules and upstream again, so within the budget the client gets
    exactly the answer it got the first time (basic auth's challenge, or the service's
    401). ``X-Shiprail-Client`` is set by the first server, never taken from a client."""
    return f"""
    server {{
        listen unix:{_socket(site)};
        access_log off;
        limit_req zone={ZONE} burst={AUTH_FAILURE_BURST} nodelay;
{auth}
        location / {{
            proxy_pass http://{target};
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Real-IP $http_x_shiprail_client;
            proxy_set_header X-Forwarded-For $http_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto https;
            proxy_set_header X-Shiprail-Client "";
            proxy_connect_timeout 2s;
            proxy_read_timeout 30s;
        }}
    }}
"""


@dataclass(frozen=True)
class Ban:
    """An address whose failed sign-ins were refused at the edge."""

    address: str
    site: str
    refused: int
    last: str


def bans(log_lines: Iterable[str], site: str | None = None) -> list[Ban]:
    """The addresses refused for failed sign-ins in the edge's access log lines (of one site
    when ``site`` is given), most refused first. Lines that are not the edge's JSON (nginx's
    own warnings, a truncated line) are skipped."""
    found: dict[tuple[str, str], Ban] = {}
    for line in log_lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if not isinstance(entry, dict) or entry.get("auth") != "failed":
            continue
        if entry.get("status") != BANNED_STATUS or (site and entry.get("site") != site):
            continue
        key = (str(entry.get("remote_addr", "")), str(entry.get("site", "")))
        seen = found.get(key)
        found[key] = Ban(
            key[0], key[1], (seen.refused if seen else 0) + 1, str(entry.get("time", ""))
        )
    return sorted(found.values(), key=lambda b: (-b.refused, b.address))
