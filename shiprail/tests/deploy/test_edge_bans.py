"""Repeated failed sign-ins from one address are refused at the real nginx edge.

One release behind an edge with basic auth: a client guessing passwords gets the budget of
401s (``AUTH_FAILURE_BURST`` at once), then 429 without reaching anything; the same address
signing in correctly is still served; a bad bearer token on a write counts too, and its 401
is the service's own (body and challenge untouched); ``shiprail status`` shows the ban.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from shiprail.deploy.routers.edge_bans import AUTH_FAILURE_BURST, BANNED_STATUS
from shiprail.deploy.settings import BasicAuth

from .test_docker_integration import Env

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, docker_client: Any) -> Iterator[Env]:
    environment = Env(tmp_path_factory.mktemp("edge-bans"), docker_client, images=("v1",))
    htpasswd = environment.state / "edge.htpasswd"
    cfg = environment.config.environments[environment.name]
    auth = BasicAuth(htpasswd_file=str(htpasswd), generate=True)
    environment.config.environments[environment.name] = cfg.model_copy(
        update={"edge": cfg.edge.model_copy(update={"basic_auth": auth})}
    )
    try:
        environment.engine().deploy(environment.name, environment.images["v1"])
        yield environment
    finally:
        environment.cleanup()


def _password(env: Env) -> tuple[str, str]:
    user, _, password = (env.state / "edge.htpasswd.password").read_text().strip().partition(":")
    return user, password


def _client(env: Env, headers: dict[str, str] | None = None, **kwargs: Any) -> httpx.Client:
    return httpx.Client(
        base_url=env.url,
        verify=env.ca,
        headers={"host": env.hostname, **(headers or {})},
        timeout=10,
        **kwargs,
    )


def test_a_bad_token_keeps_the_service_401_until_the_budget_is_spent(env: Env) -> None:
    """A token refusal goes round once more and comes back as the service's own answer."""
    with _client(env, headers={"authorization": "Bearer wrong"}) as http:
        response = http.post("/api/v1/workorders", json={"title": "x"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_password_guessing_is_refused_after_the_budget_and_shown_in_status(env: Env) -> None:
    user, password = _password(env)
    with _client(env, auth=(user, "not-" + password)) as guesser:
        statuses = Counter(
            guesser.get("/health").status_code for _ in range(AUTH_FAILURE_BURST + 6)
        )
    assert statuses[401] >= AUTH_FAILURE_BURST - 1, statuses  # one went on the token test
    assert statuses[BANNED_STATUS] >= 4, statuses
    assert set(statuses) == {401, BANNED_STATUS}, statuses
    # the right password from the same address is served: only failures are budgeted
    with _client(env, auth=(user, password)) as person:
        assert person.get("/health").status_code == 200
    status = env.engine().status(env.name)[0]
    assert status.bans, "shiprail status shows the refused address"
    assert status.bans[0].refused >= 4
    assert "edge ban:" in status.line()
    assert status.as_json()["edge_bans"][0]["address"] == status.bans[0].address


def test_status_has_no_ban_for_a_quiet_edge(tmp_path: Path, docker_client: Any) -> None:
    from shiprail.deploy.routers.nginx import read_bans

    assert read_bans(docker_client, 1, "nobody-dev") == []
