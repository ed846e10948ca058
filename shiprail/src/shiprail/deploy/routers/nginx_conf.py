"""The edge's nginx.conf as text: all traffic to one release, or a weighted canary split.

Both shapes share one template, so a split keeps every setting of a switch: TLS only, the
security headers, the limits (sizes, timeouts, rates), basic auth, JSON access logs,
``/metrics`` closed.

A split defines two upstream groups (stable and canary) and picks one per request with
nginx's ``split_clients``, which hashes a key (MurmurHash2) into 100 % of buckets: the first
``canary_weight`` % go to the canary. The key is ``$request_id`` (a fresh random id per
request) unless the split is sticky:

- by header: the header's value, so every request carrying the same value lands on the
  same side; a request without the header is assigned on its own (``$request_id``).
- by cookie: the cookie's value; a client without the cookie is assigned by its
  ``$request_id`` and gets that id as the cookie (``Set-Cookie``, Secure, HttpOnly,
  SameSite=Lax), so its next requests hash to the same side as its first.

Because the canary owns the *first* buckets, raising the weight only moves clients from
stable to canary, never back: a sticky client seen on the canary at 10 % stays there at 25 %.

Long because it holds the whole configuration, the shared ``nginx.conf`` and each site,
as templates that read top to bottom as nginx reads them.
"""

from __future__ import annotations

import re

from shiprail.deploy.routers.edge_bans import (
    auth_failure_location,
    auth_failure_server,
    auth_failure_zone,
)
from shiprail.deploy.routers.interface import Route, Sticky, TrafficSplit
from shiprail.errors import DeployFailed

#: Inside the container nginx runs as www-data and listens on an unprivileged port.
CONTAINER_PORT = 8443
CONF_DIR = "/etc/shiprail-edge"
#: Modern TLS 1.2 ciphers (Mozilla "intermediate"); TLS 1.3 suites are always on.
CIPHERS = ":".join(
    (
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        "ECDHE-RSA-CHACHA20-POLY1305",
    )
)
#: The API docs page loads Swagger UI from jsDelivr; everything else is same-origin.
CSP = (
    "default-src 'self'; img-src 'self' data: https://fastapi.tiangolo.com; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
SECURITY_HEADERS = {
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}
#: Limits against slow clients, request floods and smuggling (docs/edge-proxy.md). A client
#: is its address: clients behind one NAT (or Docker's port proxy) share one budget.
LIMITS = {
    # A slow client (slowloris) is dropped once a header or body read stalls this long.
    "client_header_timeout": "10s",
    "client_body_timeout": "10s",
    "send_timeout": "10s",
    "keepalive_timeout": "15s",
    "reset_timedout_connection": "on",
    # The request line and each header fit in 8 KiB (else 400 or 414), 32 KiB in all.
    "client_header_buffer_size": "1k",
    "large_client_header_buffers": "4 8k",
    "client_max_body_size": "1m",
    "limit_conn_status": "429",
    "limit_req_status": "429",
}
#: Requests in progress per client; slow clients still sending headers do not count.
MAX_CONNECTIONS_PER_CLIENT = 100
#: Requests per second per client (rate, burst served at once). The general budget caps a
#: flood from one address without limiting a busy client (or many behind one address);
#: writes under /api/ also count against the stricter write budget.
REQUEST_RATE = (1000, 2000)
WRITE_RATE = (10, 20)
#: Mozilla "intermediate" key exchange groups (nginx's default would add X448 and P-521).
ECDH_CURVES = "X25519:prime256v1:secp384r1"
#: Seconds a client keeps the sticky cookie the edge gives it: longer than any canary.
STICKY_COOKIE_MAX_AGE = 86400
_SAFE = re.compile(r"^[A-Za-z0-9.:\[\]_-]+$")
#: nginx drops headers with underscores by default, and ``$http_<name>`` maps ``-`` to ``_``.
_HEADER = re.compile(r"^[A-Za-z0-9-]{1,64}$")
#: ``$cookie_<name>`` reads a variable name: letters, digits and underscores only.
_COOKIE = re.compile(r"^[A-Za-z0-9_]{1,64}$")


def _check(value: str, what: str, pattern: re.Pattern[str] = _SAFE) -> str:
    if not pattern.match(value):
        raise DeployFailed(f"refusing to write {what} '{value}' into the proxy configuration")
    return value


def _check_csp(policy: str) -> str:
    """A policy goes inside double quotes in nginx.conf, where ``$`` starts a variable: no
    quote, backslash, dollar or line break."""
    if any(c in policy for c in '"\\$\n\r'):
        raise DeployFailed("refusing to write a Content-Security-Policy with quotes or '$'")
    return policy


def _upstream(name: str, route: Route) -> str:
    if not route.upstreams:
        raise DeployFailed(f"no upstream for release {route.release_id}: nothing to route to")
    servers = "\n".join(
        f"        server {_check(u, 'upstream')} max_fails=1 fail_timeout=2s;"
        for u in route.upstreams
    )
    return f"""    upstream {name} {{
{servers}
        keepalive 32;
    }}"""


def _ident(site: str) -> str:
    """The site as an nginx identifier (upstream and variable names)."""
    return _check(site, "site name").replace("-", "_").replace(".", "_")


def _pool(site: str, side: str = "") -> str:
    base = f"shiprail_{_ident(site)}"
    return f"{base}_{side}" if side else base


def render_nginx_conf(
    route: Route,
    *,
    site: str | None = None,
    conf_dir: str = CONF_DIR,
    basic_auth: bool = False,
    listen: int = CONTAINER_PORT,
) -> str:
    """The complete nginx.conf for one environment routed to one release (the site inline)."""
    site_conf = render_site_conf(
        route, site=site, conf_dir=conf_dir, basic_auth=basic_auth, listen=listen
    )
    return render_main_conf(conf_dir=conf_dir, sites=site_conf)


def render_nginx_split_conf(
    split: TrafficSplit,
    *,
    site: str | None = None,
    conf_dir: str = CONF_DIR,
    basic_auth: bool = False,
    listen: int = CONTAINER_PORT,
) -> str:
    """The complete nginx.conf of a canary split (the site inline)."""
    site_conf = render_site_split_conf(
        split, site=site, conf_dir=conf_dir, basic_auth=basic_auth, listen=listen
    )
    return render_main_conf(conf_dir=conf_dir, sites=site_conf)


def render_site_conf(
    route: Route,
    *,
    site: str | None = None,
    conf_dir: str = CONF_DIR,
    basic_auth: bool = False,
    listen: int = CONTAINER_PORT,
    csp: str = CSP,
) -> str:
    """One site (``<service>-<environment>``; the environment by default) routed to one
    release: its upstream and its ``server`` block, included by the edge's nginx.conf.
    ``csp`` is the site's Content-Security-Policy (a stricter one for the console)."""
    name = site or route.environment
    upstream = _pool(name)
    release = _check(route.release_id, "release id")
    return _site(
        site=name,
        environment=route.environment,
        comment=f"release {release} ({route.colour})",
        hostname=_check(route.hostname, "hostname"),
        release_log=f'"{release}"',
        upstreams=_upstream(upstream, route),
        target=upstream,
        conf_dir=conf_dir,
        basic_auth=basic_auth,
        listen=listen,
        csp=csp,
    )


def render_site_split_conf(
    split: TrafficSplit,
    *,
    site: str | None = None,
    conf_dir: str = CONF_DIR,
    basic_auth: bool = False,
    listen: int = CONTAINER_PORT,
) -> str:
    """One site sending ``split.canary_weight`` % of requests to the canary.

    Both upstream groups stay defined whatever the weight (0 sends nothing to the canary,
    100 nothing to stable), so the access log and ``nginx -T`` always show both releases.
    """
    stable, canary = split.stable, split.canary
    if canary.environment != stable.environment or canary.hostname != stable.hostname:
        raise DeployFailed("a split routes one environment's hostname: stable and canary differ")
    name = site or stable.environment
    var = f"$shiprail_{_ident(name)}"
    stable_pool, canary_pool = _pool(name, "stable"), _pool(name, "canary")
    blocks = f"{_upstream(stable_pool, stable)}\n\n{_upstream(canary_pool, canary)}"
    stable_id = _check(stable.release_id, "release id")
    canary_id = _check(canary.release_id, "release id")
    key_maps, key, set_cookie = _split_key(split.sticky, var)
    weight = split.canary_weight
    if weight == 0:
        buckets = f"        * {stable_pool};\n"
    elif weight == 100:
        buckets = f"        * {canary_pool};\n"
    else:
        buckets = f"        {weight}% {canary_pool};\n        * {stable_pool};\n"
    maps = (
        f"{key_maps}"
        f"    split_clients {key} {var}_pool {{\n{buckets}    }}\n"
        f"    map {var}_pool {var}_release {{\n"
        f'        {canary_pool} "{canary_id}";\n'
        f'        default "{stable_id}";\n'
        "    }\n"
    )
    return _site(
        site=name,
        environment=stable.environment,
        comment=(
            f"split: {100 - weight} % to release {stable_id} ({stable.colour}), "
            f"{weight} % to canary {canary_id} ({canary.colour})"
        ),
        hostname=_check(stable.hostname, "hostname"),
        release_log=f"{var}_release",
        maps=maps,
        upstreams=blocks,
        target=f"{var}_pool",
        extra_headers=set_cookie,
        conf_dir=conf_dir,
        basic_auth=basic_auth,
        listen=listen,
    )


def _split_key(sticky: Sticky | None, var: str) -> tuple[str, str, str]:
    """The ``map`` blocks, the key ``split_clients`` hashes, and the Set-Cookie line (if any);
    ``var`` prefixes the site's variables.

    With a header and a cookie, the header wins when the request carries it.
    """
    maps, key, set_cookie = "", "$request_id", ""
    if sticky is not None and sticky.cookie:
        cookie = _check(sticky.cookie, "sticky cookie name", _COOKIE)
        value = (
            f"{cookie}=$request_id; Path=/; Max-Age={STICKY_COOKIE_MAX_AGE}; "
            "Secure; HttpOnly; SameSite=Lax"
        )
        maps += (
            f"    map $cookie_{cookie} {var}_split_cookie {{\n"
            '        "" $request_id;\n'
            f"        default $cookie_{cookie};\n"
            "    }\n"
            f"    map $cookie_{cookie} {var}_split_set_cookie {{\n"
            f'        "" "{value}";\n'
            '        default "";\n'
            "    }\n"
        )
        key = f"{var}_split_cookie"
        # An empty value adds no header: only clients without the cookie are given one.
        set_cookie = f"        add_header Set-Cookie {var}_split_set_cookie always;\n"
    if sticky is not None and sticky.header:
        variable = "$http_" + _check(sticky.header, "sticky header", _HEADER).lower().replace(
            "-", "_"
        )
        maps += (
            f"    map {variable} {var}_split_key {{\n"
            f'        "" {key};\n'
            f"        default {variable};\n"
            "    }\n"
        )
        key = f"{var}_split_key"
    return maps, key, set_cookie


def _limits() -> str:
    """The ``http`` block's limits and the zones counting each client's requests."""
    settings = "\n".join(f"    {name} {value};" for name, value in LIMITS.items())
    return (
        f"{settings}\n"
        "    limit_conn_zone $binary_remote_addr zone=shiprail_conn:10m;\n"
        "    limit_req_zone $binary_remote_addr zone=shiprail_req:10m "
        f"rate={REQUEST_RATE[0]}r/s;\n"
        "    # Only writes under /api/ have a key: other requests are not counted here.\n"
        '    map "$request_method:$uri" $shiprail_write_client {\n'
        '        "~^(POST|PUT|PATCH|DELETE):/api/" $binary_remote_addr;\n'
        '        default "";\n'
        "    }\n"
        "    limit_req_zone $shiprail_write_client zone=shiprail_write:10m "
        f"rate={WRITE_RATE[0]}r/s;\n"
        f"{auth_failure_zone()}"
    )


def render_main_conf(*, conf_dir: str = CONF_DIR, sites: str | None = None) -> str:
    """The edge's nginx.conf: what every site shares (limits, TLS-independent settings, the
    JSON access log) and the sites, included from ``<conf_dir>/sites/*.conf`` — or ``sites``
    inline. One edge serves every site on its port: nginx picks the site by hostname (SNI
    and ``Host``), and the first site is the default for requests naming none."""
    included = sites if sites is not None else f"    include {conf_dir}/sites/*.conf;\n"
    return f"""# Generated by shiprail: do not edit.
worker_processes auto;
pid /tmp/nginx.pid;
error_log stderr warn;

events {{
    worker_connections 1024;
}}

http {{
    server_tokens off;
    client_body_temp_path /tmp/client_body;
    proxy_temp_path /tmp/proxy;
    fastcgi_temp_path /tmp/fastcgi;
    uwsgi_temp_path /tmp/uwsgi;
    scgi_temp_path /tmp/scgi;
    default_type application/octet-stream;
    # Requests refused before a site is chosen log its fields empty, without a warning.
    uninitialized_variable_warn off;
{_limits()}

    # Keep a well-formed request id from the client, else make one; the service logs it too.
    map $http_x_request_id $shiprail_request_id {{
        "~^[A-Za-z0-9._-]{{1,128}}$" $http_x_request_id;
        default $request_id;
    }}
    log_format shiprail_json escape=json '{{"time":"$time_iso8601",'
        '"request_id":"$shiprail_request_id","remote_addr":"$remote_addr",'
        '"method":"$request_method","uri":"$request_uri","status":$status,'
        '"bytes":$body_bytes_sent,"duration":$request_time,"host":"$host",'
        '"upstream":"$upstream_addr","upstream_status":"$upstream_status",'
        '"upstream_time":"$upstream_response_time","user_agent":"$http_user_agent",'
        '"site":"$shiprail_site","environment":"$shiprail_environment",'
        '"release":"$shiprail_release","auth":"$shiprail_auth"}}';
    access_log /dev/stdout shiprail_json;

{included}}}
"""


def _site(
    *,
    site: str,
    environment: str,
    comment: str,
    hostname: str,
    release_log: str,
    upstreams: str,
    target: str,
    conf_dir: str,
    basic_auth: bool,
    listen: int,
    maps: str = "",
    extra_headers: str = "",
    csp: str = CSP,
) -> str:
    """One site's ``http``-level parts and its ``server`` block, around the routing parts
    (``maps``, ``upstreams``, ``target``).

    Long because most of it is the configuration itself, kept as one
    template so it reads top to bottom as nginx reads it.
    """
    var = f"$shiprail_{_ident(site)}"
    policy = {**SECURITY_HEADERS, "Content-Security-Policy": _check_csp(csp)}
    headers = "\n".join(
        f'        add_header {name} "{value}" always;' for name, value in policy.items()
    )
    # The edge's headers are the ones that count: drop the service's own copies.
    hidden = "\n".join(f"            proxy_hide_header {name};" for name in SECURITY_HEADERS)
    auth = (
        f"        auth_basic {var}_auth_realm;\n"
        f"        auth_basic_user_file {conf_dir}/htpasswd/{site};\n"
        if basic_auth
        else ""
    )
    # Basic auth and the API's bearer tokens share the Authorization header, so writes that
    # carry a bearer token skip the edge's basic auth: the service checks the token itself.
    # Reads (GET/HEAD) always need the basic-auth password.
    realm_map = (
        f'    map "$request_method:$http_authorization" {var}_auth_realm {{\n'
        '        "~^(POST|PUT|PATCH|DELETE):Bearer " off;\n'
        f'        default "{environment}";\n'
        "    }\n"
        if basic_auth
        else ""
    )
    proxy = f"""            proxy_pass http://{target};
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Real-IP $remote_addr;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto https;
            proxy_set_header X-Request-ID $shiprail_request_id;
            proxy_set_header X-Shiprail-Client "";
            proxy_connect_timeout 2s;
            proxy_read_timeout 30s;
            proxy_next_upstream error timeout http_502 http_503;
            proxy_next_upstream_tries 3;
{hidden}"""
    denied = auth_failure_location(site, hidden, basic_auth)
    second = auth_failure_server(site, auth, target)
    return f"""    # Site {site} (environment {environment}), generated by shiprail: do not edit.
    # {comment}
{realm_map}{maps}
{upstreams}

    server {{
        listen {listen} ssl http2;
        server_name {hostname};
        set $shiprail_site "{site}";
        set $shiprail_environment "{environment}";
        set $shiprail_release {release_log};

        ssl_certificate {conf_dir}/tls/{site}/cert.pem;
        ssl_certificate_key {conf_dir}/tls/{site}/key.pem;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_ciphers {CIPHERS};
        ssl_ecdh_curve {ECDH_CURVES};
        ssl_prefer_server_ciphers off;
        ssl_session_cache shared:SSL:10m;
        ssl_session_timeout 1d;
        ssl_session_tickets off;

        limit_conn shiprail_conn {MAX_CONNECTIONS_PER_CLIENT};
        limit_req zone=shiprail_req burst={REQUEST_RATE[1]} nodelay;
        limit_req zone=shiprail_write burst={WRITE_RATE[1]} nodelay;

{headers}
{extra_headers}{auth}
        # Metrics are scraped from the replicas on the private network, never from outside.
        location = /metrics {{
            return 404;
        }}

        location / {{
{proxy}
            # A refused credential goes round once more, through the ban (edge_bans).
            proxy_intercept_errors on;
            error_page 401 = @shiprail_auth_failed;
        }}
{denied}    }}
{second}"""
