"""Generated edge proxy configuration: nginx checked by the real ``nginx -t``, Traefik files
checked against Traefik's published JSON schema."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from shiprail.deploy.routers.interface import Route, Sticky, TrafficSplit
from shiprail.deploy.routers.nginx import (
    CONF_DIR,
    SECURITY_HEADERS,
    render_nginx_conf,
    render_nginx_split_conf,
)
from shiprail.deploy.routers.nginx_conf import LIMITS
from shiprail.deploy.routers.traefik import (
    TraefikRouter,
    render_traefik_dynamic,
    render_traefik_split,
)
from shiprail.deploy.settings import BasicAuth, EdgeConfig
from shiprail.deploy.tls import htpasswd_content, issue_leaf
from shiprail.errors import ConfigError, DeployFailed

from .data import schema_path
from conftest import unavailable

ROUTE = Route(
    environment="dev",
    hostname="dev.localhost",
    release_id="r20260101-000000-abcd",
    colour="green",
    upstreams=("172.18.0.5:8000", "172.18.0.6:8000"),
    names=("shiprail-dev-r1-1", "shiprail-dev-r1-2"),
)


def nginx_binary() -> str:
    found = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if found is None:
        unavailable("nginx not installed (apt-get install -y nginx)")
    return found


@pytest.mark.parametrize("basic_auth", [False, True])
def test_nginx_config_passes_nginx_t(tmp_path: Path, basic_auth: bool) -> None:
    binary = nginx_binary()
    issue_leaf(tmp_path / "ca", tmp_path / "tls" / "dev", "dev.localhost")
    (tmp_path / "htpasswd").mkdir()
    (tmp_path / "htpasswd" / "dev").write_text("admin:$apr1$abc$def\n")
    conf = render_nginx_conf(ROUTE, conf_dir=str(tmp_path), basic_auth=basic_auth)
    (tmp_path / "nginx.conf").write_text(conf)
    result = subprocess.run(
        [binary, "-t", "-e", "stderr", "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def test_nginx_config_is_tls_only_with_headers_and_json_logs() -> None:
    conf = render_nginx_conf(ROUTE, basic_auth=True)
    assert "listen 8443 ssl" in conf and "listen 80" not in conf
    assert "ssl_protocols TLSv1.2 TLSv1.3;" in conf
    assert "RC4" not in conf and "CBC" not in conf
    for name in SECURITY_HEADERS:
        assert f"add_header {name} " in conf
    assert "auth_basic_user_file" in conf
    assert '"request_id":"$shiprail_request_id"' in conf
    assert "proxy_set_header X-Request-ID $shiprail_request_id;" in conf
    assert "escape=json" in conf
    assert "server 172.18.0.5:8000" in conf and "server 172.18.0.6:8000" in conf
    assert "location = /metrics" in conf
    assert "auth_basic" not in render_nginx_conf(ROUTE, basic_auth=False)


def test_nginx_config_sets_limits_and_mozilla_curves() -> None:
    conf = render_nginx_conf(ROUTE)
    for name, value in LIMITS.items():
        assert conf.count(f"    {name} {value};") == 1, name
    assert "ssl_ecdh_curve X25519:prime256v1:secp384r1;" in conf
    assert "limit_conn_zone $binary_remote_addr zone=shiprail_conn:10m;" in conf
    assert "limit_conn shiprail_conn 100;" in conf
    assert "zone=shiprail_req:10m rate=1000r/s;" in conf
    assert "limit_req zone=shiprail_req burst=2000 nodelay;" in conf
    # The write budget only counts POST/PUT/PATCH/DELETE under /api/ (other keys are empty).
    writes = conf.split("$shiprail_write_client {")[1].split("}")[0]
    assert '"~^(POST|PUT|PATCH|DELETE):/api/" $binary_remote_addr;' in writes
    assert 'default "";' in writes
    assert "limit_req_zone $shiprail_write_client zone=shiprail_write:10m rate=10r/s;" in conf
    assert "limit_req zone=shiprail_write burst=20 nodelay;" in conf


def test_bearer_writes_skip_basic_auth_but_reads_do_not() -> None:
    # Basic auth and API bearer tokens share the Authorization header.
    conf = render_nginx_conf(ROUTE, basic_auth=True)
    assert "auth_basic $shiprail_dev_auth_realm;" in conf
    assert '"~^(POST|PUT|PATCH|DELETE):Bearer " off;' in conf
    assert "GET" not in conf.split("$shiprail_dev_auth_realm {")[1].split("}")[0]


def test_nginx_config_refuses_injection() -> None:
    bad = Route("dev", "dev.localhost; evil", "r1", "blue", ("10.0.0.1:8000",))
    with pytest.raises(DeployFailed, match="refusing"):
        render_nginx_conf(bad)
    with pytest.raises(DeployFailed, match="no upstream"):
        render_nginx_conf(Route("dev", "dev.localhost", "r1", "blue", ()))


def test_traefik_dynamic_config_matches_schema(tmp_path: Path) -> None:
    schema = json.loads(schema_path("traefik-v3-file-provider.json").read_text())
    router = TraefikRouter(
        environment="dev",
        edge=EdgeConfig(router="traefik", hostname="dev.example.org", port=443,
                        basic_auth=BasicAuth(htpasswd_file="x")),
        dynamic_dir=tmp_path,
    )  # fmt: skip
    router.switch(ROUTE)
    document = yaml.safe_load(router.path.read_text())
    jsonschema.validate(document, schema)
    weighted = document["http"]["services"]["workorders-dev"]["weighted"]["services"]
    assert {s["name"]: s["weight"] for s in weighted} == {"workorders-dev-green": 1}
    green = document["http"]["services"]["workorders-dev-green"]["loadBalancer"]["servers"]
    assert green == [
        {"url": "http://shiprail-dev-r1-1:8000"},
        {"url": "http://shiprail-dev-r1-2:8000"},
    ]
    router_cfg = document["http"]["routers"]["workorders-dev"]
    assert router_cfg["middlewares"] == ["security-headers@file", "basic-auth-dev@file"]
    assert router.url() == "https://dev.example.org/"
    assert not list(tmp_path.glob(".*.tmp")), "written atomically, no temp file left"
    # the next release (blue) takes the weight; green stays defined at weight 0 to drain
    router.switch(Route("dev", "dev.example.org", "r2", "blue", ("10.0.0.7:8000",)))
    document = yaml.safe_load(router.path.read_text())
    jsonschema.validate(document, schema)
    weighted = document["http"]["services"]["workorders-dev"]["weighted"]["services"]
    assert {s["name"]: s["weight"] for s in weighted} == {
        "workorders-dev-blue": 1,
        "workorders-dev-green": 0,
    }
    assert document["http"]["services"]["workorders-dev-green"]["loadBalancer"]["servers"] == green


def test_traefik_first_release_has_only_its_colour() -> None:
    blue = Route("prod", "prod.example.org", "r0", "blue", ("10.0.0.9:8000",))
    doc = render_traefik_dynamic(blue)
    services = doc["http"]["services"]
    weights = {s["name"]: s["weight"] for s in services["workorders-prod"]["weighted"]["services"]}
    assert weights == {"workorders-prod-blue": 1}
    assert "workorders-prod-green" not in services


def test_local_ca_issues_a_verifiable_certificate(tmp_path: Path) -> None:
    material = issue_leaf(tmp_path / "ca", tmp_path / "tls", "dev.localhost")
    assert b"BEGIN CERTIFICATE" in material.cert_pem
    assert "hidden" in repr(material) and "PRIVATE" not in repr(material)
    ca, cert = str(tmp_path / "ca" / "ca.pem"), str(tmp_path / "tls" / "cert.pem")
    verify = subprocess.run(
        ["openssl", "verify", "-CAfile", ca, cert], capture_output=True, text=True, check=False
    )
    assert verify.returncode == 0, verify.stderr
    text = subprocess.run(
        ["openssl", "x509", "-noout", "-text", "-in", str(tmp_path / "tls" / "cert.pem")],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "DNS:dev.localhost" in text and "IP Address:127.0.0.1" in text
    again = issue_leaf(tmp_path / "ca", tmp_path / "tls", "dev.localhost")
    assert again.cert_pem == material.cert_pem, "reused while valid"
    assert oct((tmp_path / "tls" / "key.pem").stat().st_mode & 0o777) == "0o600"


def test_htpasswd_generated_only_when_allowed(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="openssl passwd -apr1"):
        htpasswd_content(BasicAuth(htpasswd_file=str(tmp_path / "missing")), "dev")
    content = htpasswd_content(BasicAuth(htpasswd_file=str(tmp_path / "h"), generate=True), "dev")
    assert content.startswith(b"admin:$apr1$")
    password = (tmp_path / "h.password").read_text().strip().split(":", 1)[1]
    assert password.encode() not in content
    assert oct((tmp_path / "h.password").stat().st_mode & 0o777) == "0o600"
    os.chmod(tmp_path / "h", 0o600)


# --- weighted split (canary) ---------------------------------------------------------------

STABLE = Route("dev", "dev.localhost", "r1-stable", "blue", ("172.18.0.5:8000", "172.18.0.6:8000"))
CANARY = Route("dev", "dev.localhost", "r2-canary", "green", ("172.18.0.7:8000",))


def _split(
    weight: int, sticky: Sticky | None = None, *, conf_dir: str = CONF_DIR, basic_auth: bool = False
) -> str:
    split = TrafficSplit(STABLE, CANARY, weight, sticky)
    return render_nginx_split_conf(split, conf_dir=conf_dir, basic_auth=basic_auth)


def _block(conf: str, opening: str) -> list[str]:
    """The lines inside the block that starts with ``opening`` (one level, no nesting)."""
    body = conf.split(opening + " {\n", 1)[1].split("\n    }", 1)[0]
    return [line.strip() for line in body.splitlines()]


def test_split_sends_the_weight_to_the_canary_pool() -> None:
    conf = _split(20)
    assert _block(conf, "    split_clients $request_id $shiprail_dev_pool") == [
        "20% shiprail_dev_canary;",
        "* shiprail_dev_stable;",
    ]
    assert _block(conf, "    upstream shiprail_dev_stable") == [
        "server 172.18.0.5:8000 max_fails=1 fail_timeout=2s;",
        "server 172.18.0.6:8000 max_fails=1 fail_timeout=2s;",
        "keepalive 32;",
    ]
    assert _block(conf, "    upstream shiprail_dev_canary") == [
        "server 172.18.0.7:8000 max_fails=1 fail_timeout=2s;",
        "keepalive 32;",
    ]
    assert "proxy_pass http://$shiprail_dev_pool;" in conf
    # the access log names the release that served each request
    assert "set $shiprail_release $shiprail_dev_release;" in conf
    assert _block(conf, "    map $shiprail_dev_pool $shiprail_dev_release") == [
        'shiprail_dev_canary "r2-canary";',
        'default "r1-stable";',
    ]
    assert "# split: 80 % to release r1-stable (blue), 20 % to canary r2-canary (green)" in conf
    assert "Set-Cookie" not in conf, "not sticky: nothing to remember"


@pytest.mark.parametrize(("weight", "pool"), [(0, "stable"), (100, "canary")])
def test_split_at_0_and_100_sends_everything_to_one_side(weight: int, pool: str) -> None:
    conf = _split(weight)
    assert _block(conf, "    split_clients $request_id $shiprail_dev_pool") == [
        f"* shiprail_dev_{pool};"
    ]
    # both releases stay defined, so the configuration always shows them both
    assert "upstream shiprail_dev_stable {" in conf and "upstream shiprail_dev_canary {" in conf


def test_split_sticky_by_header_keys_on_its_value_or_else_per_request() -> None:
    conf = _split(25, Sticky(header="X-Canary-Group"))
    assert _block(conf, "    map $http_x_canary_group $shiprail_dev_split_key") == [
        '"" $request_id;',
        "default $http_x_canary_group;",
    ]
    assert "split_clients $shiprail_dev_split_key $shiprail_dev_pool {" in conf
    assert "Set-Cookie" not in conf


def test_split_sticky_by_cookie_gives_a_cookie_to_new_clients() -> None:
    conf = _split(25, Sticky(cookie="shiprail_canary"))
    assert _block(conf, "    map $cookie_shiprail_canary $shiprail_dev_split_cookie") == [
        '"" $request_id;',
        "default $cookie_shiprail_canary;",
    ]
    # a new client is placed by its request id, and that id becomes its cookie: its next
    # requests hash to the same side; clients that have the cookie get no new one
    assert _block(conf, "    map $cookie_shiprail_canary $shiprail_dev_split_set_cookie") == [
        '"" "shiprail_canary=$request_id; Path=/; Max-Age=86400; Secure; HttpOnly; SameSite=Lax";',
        'default "";',
    ]
    assert "split_clients $shiprail_dev_split_cookie $shiprail_dev_pool {" in conf
    assert "        add_header Set-Cookie $shiprail_dev_split_set_cookie always;\n" in conf


def test_split_sticky_by_header_then_cookie() -> None:
    conf = _split(10, Sticky(header="X-User", cookie="cohort"))
    assert _block(conf, "    map $http_x_user $shiprail_dev_split_key") == [
        '"" $shiprail_dev_split_cookie;',
        "default $http_x_user;",
    ]
    assert "split_clients $shiprail_dev_split_key $shiprail_dev_pool {" in conf
    assert "add_header Set-Cookie $shiprail_dev_split_set_cookie always;" in conf


@pytest.mark.parametrize("basic_auth", [False, True])
def test_split_keeps_every_setting_of_a_switch(basic_auth: bool) -> None:
    single = render_nginx_conf(STABLE, basic_auth=basic_auth).splitlines()
    split = _split(30, Sticky(cookie="c"), basic_auth=basic_auth).splitlines()
    # Only the routing differs: the release comment, the one upstream's name, the target
    # and the release in the log. TLS, headers, limits, auth and logs are all kept.
    assert [line for line in single if line not in split] == [
        "    # release r1-stable (blue)",
        "    upstream shiprail_dev {",
        '        set $shiprail_release "r1-stable";',
        "            proxy_pass http://shiprail_dev;",
        "            proxy_pass http://shiprail_dev;",
    ]


@pytest.mark.parametrize(
    "sticky",
    [Sticky(header="X-Canary; evil"), Sticky(header="X_Under"), Sticky(cookie="a-b"),
     Sticky(cookie="c d")],
)  # fmt: skip
def test_split_refuses_unsafe_sticky_names(sticky: Sticky) -> None:
    with pytest.raises(DeployFailed, match="refusing to write sticky"):
        _split(10, sticky)


def test_split_refuses_a_canary_of_another_environment_or_without_replicas() -> None:
    other = Route("prod", "prod.localhost", "r3", "green", ("10.0.0.1:8000",))
    with pytest.raises(DeployFailed, match="stable and canary differ"):
        render_nginx_split_conf(TrafficSplit(STABLE, other, 10))
    empty = Route("dev", "dev.localhost", "r3", "green", ())
    with pytest.raises(DeployFailed, match="no upstream for release r3"):
        render_nginx_split_conf(TrafficSplit(STABLE, empty, 10))
    with pytest.raises(ValueError, match="not within 0-100"):
        TrafficSplit(STABLE, CANARY, 101)


@pytest.mark.parametrize(
    ("weight", "sticky", "basic_auth"),
    [(0, None, False), (20, None, True), (100, None, False),
     (50, Sticky(header="X-User"), False), (5, Sticky(cookie="cohort"), True),
     (75, Sticky(header="X-User", cookie="cohort"), True)],
)  # fmt: skip
def test_split_config_passes_nginx_t(
    tmp_path: Path, weight: int, sticky: Sticky | None, basic_auth: bool
) -> None:
    binary = nginx_binary()
    issue_leaf(tmp_path / "ca", tmp_path / "tls" / "dev", "dev.localhost")
    (tmp_path / "htpasswd").mkdir()
    (tmp_path / "htpasswd" / "dev").write_text("admin:$apr1$abc$def\n")
    conf = _split(weight, sticky, conf_dir=str(tmp_path), basic_auth=basic_auth)
    (tmp_path / "nginx.conf").write_text(conf)
    result = subprocess.run(
        [binary, "-t", "-e", "stderr", "-c", str(tmp_path / "nginx.conf")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


def _traefik_router(tmp_path: Path) -> TraefikRouter:
    return TraefikRouter(
        environment="dev",
        edge=EdgeConfig(router="traefik", hostname="dev.localhost", port=443,
                        basic_auth=BasicAuth(htpasswd_file="x")),
        dynamic_dir=tmp_path,
    )  # fmt: skip


def _weighted(document: dict[str, Any]) -> dict[str, Any]:
    return dict(document["http"]["services"]["workorders-dev"]["weighted"])


def test_traefik_split_is_a_weighted_service_matching_the_schema(tmp_path: Path) -> None:
    schema = json.loads(schema_path("traefik-v3-file-provider.json").read_text())
    router = _traefik_router(tmp_path)
    router.split(TrafficSplit(STABLE, CANARY, 20, Sticky(cookie="shiprail_canary")))
    document = yaml.safe_load(router.path.read_text())
    jsonschema.validate(document, schema)
    assert _weighted(document) == {
        "services": [
            {"name": "workorders-dev-blue", "weight": 80},
            {"name": "workorders-dev-green", "weight": 20},
        ],
        "sticky": {
            "cookie": {
                "name": "shiprail_canary", "secure": True, "httpOnly": True, "sameSite": "lax"
            }
        },
    }  # fmt: skip
    services = document["http"]["services"]
    assert services["workorders-dev-blue"]["loadBalancer"]["servers"] == [
        {"url": "http://172.18.0.5:8000"},
        {"url": "http://172.18.0.6:8000"},
    ]
    assert services["workorders-dev-green"]["loadBalancer"]["servers"] == [
        {"url": "http://172.18.0.7:8000"}
    ]
    # the routers (TLS options, headers, basic auth, /metrics closed) are those of a switch
    switched = render_traefik_dynamic(STABLE, basic_auth=True)
    assert document["http"]["routers"] == switched["http"]["routers"]
    assert not list(tmp_path.glob(".*.tmp")), "written atomically, no temp file left"
    # promoting the canary with a switch keeps the stable colour defined to drain
    router.switch(CANARY)
    document = yaml.safe_load(router.path.read_text())
    jsonschema.validate(document, schema)
    assert _weighted(document) == {
        "services": [
            {"name": "workorders-dev-blue", "weight": 0},
            {"name": "workorders-dev-green", "weight": 1},
        ]
    }


@pytest.mark.parametrize(("weight", "side"), [(0, "blue"), (100, "green")])
def test_traefik_split_at_0_and_100_lists_one_side_only(weight: int, side: str) -> None:
    # Traefik follows its sticky cookie whatever the weight: a side at 0 must be left out.
    schema = json.loads(schema_path("traefik-v3-file-provider.json").read_text())
    document = render_traefik_split(TrafficSplit(STABLE, CANARY, weight, Sticky(cookie="c")))
    jsonschema.validate(document, schema)
    assert _weighted(document)["services"] == [{"name": f"workorders-dev-{side}", "weight": 100}]
    assert "sticky" in _weighted(document)
    not_sticky = render_traefik_split(TrafficSplit(STABLE, CANARY, weight))
    assert "sticky" not in _weighted(not_sticky)


def test_traefik_split_refuses_a_header_sticky_and_writes_nothing(tmp_path: Path) -> None:
    router = _traefik_router(tmp_path)
    for sticky in (Sticky(header="X-User"), Sticky(header="X-User", cookie="c")):
        with pytest.raises(ConfigError, match="sticky by cookie only") as info:
            router.split(TrafficSplit(STABLE, CANARY, 10, sticky))
        assert info.value.exit_code == 2
    assert not router.path.exists()


def test_traefik_split_needs_two_colours() -> None:
    same = Route("dev", "dev.localhost", "r3", "blue", ("172.18.0.9:8000",))
    with pytest.raises(DeployFailed, match="two colours"):
        render_traefik_split(TrafficSplit(STABLE, same, 10))


def test_one_edge_config_holds_several_sites_and_passes_nginx_t(tmp_path: Path) -> None:
    """Two services' dev sites (and a canary split of one) in one nginx: no name clashes."""
    from shiprail.deploy.routers.nginx_conf import (
        render_main_conf,
        render_site_conf,
        render_site_split_conf,
    )

    binary = nginx_binary()
    (tmp_path / "sites").mkdir()
    (tmp_path / "htpasswd").mkdir()
    for site, hostname in (("alpha-dev", "alpha.localhost"), ("beta-dev", "beta.localhost")):
        issue_leaf(tmp_path / "ca", tmp_path / "tls" / site, hostname)
        (tmp_path / "htpasswd" / site).write_text("admin:$apr1$abc$def\n")
    alpha = Route("dev", "alpha.localhost", "r1", "blue", ("172.18.0.5:8000",))
    beta = Route("dev", "beta.localhost", "r2", "green", ("172.18.0.6:8000",))
    beta_canary = Route("dev", "beta.localhost", "r3", "blue", ("172.18.0.7:8000",))
    conf_dir = str(tmp_path)
    (tmp_path / "sites" / "alpha-dev.conf").write_text(
        render_site_conf(alpha, site="alpha-dev", conf_dir=conf_dir, basic_auth=True)
    )
    (tmp_path / "sites" / "beta-dev.conf").write_text(
        render_site_split_conf(
            TrafficSplit(beta, beta_canary, 10, Sticky(cookie="c")),
            site="beta-dev",
            conf_dir=conf_dir,
            basic_auth=True,
        )
    )
    (tmp_path / "nginx.conf").write_text(render_main_conf(conf_dir=conf_dir))
    result = subprocess.run(
        [binary, "-t", "-e", "stderr", "-c", str(tmp_path / "nginx.conf")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    both = (tmp_path / "sites" / "alpha-dev.conf").read_text() + (
        tmp_path / "sites" / "beta-dev.conf"
    ).read_text()
    assert "upstream shiprail_alpha_dev {" in both and "upstream shiprail_beta_dev_canary {" in both
    assert "auth_basic_user_file " + conf_dir + "/htpasswd/beta-dev;" in both


def test_bans_count_refused_sign_ins_per_address_and_site() -> None:
    from shiprail.deploy.routers.edge_bans import bans

    def line(address: str, status: int, site: str = "w-dev", auth: str = "failed") -> str:
        return json.dumps(
            {"time": "2026-11-30T10:00:00+00:00", "remote_addr": address, "status": status,
             "site": site, "auth": auth}
        )  # fmt: skip

    lines = [
        line("10.0.0.1", 401),  # a failure within the budget is not a ban
        line("10.0.0.1", 429),
        line("10.0.0.1", 429),
        line("10.0.0.2", 429),
        line("10.0.0.2", 429, site="other-dev"),
        line("10.0.0.3", 429, auth=""),  # a general rate limit, not a sign-in ban
        "nginx: [warn] not json",
        "{truncated",
    ]
    found = bans(lines, "w-dev")
    assert [(b.address, b.refused) for b in found] == [("10.0.0.1", 2), ("10.0.0.2", 1)]
    assert {b.site for b in bans(lines)} == {"w-dev", "other-dev"}
