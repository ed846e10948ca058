"""The Docker boundary: every SDK exception becomes one of ours, with the SDK's as its cause,
and an engine that does not answer is a missing tool.

The SDK's exceptions are raised for real inside :func:`docker_errors` (no engine needed);
the last tests ask a real engine for things that are not there.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import pytest
import requests
from docker.errors import APIError, BuildError, DockerException, ImageNotFound, NotFound

from shiprail import _docker
from shiprail._docker import (
    DOCKER_INSTALL_HINT,
    at_once,
    docker_errors,
    find_container,
    find_image,
    find_network,
)
from shiprail.errors import (
    EXIT_TOOL,
    DeployFailed,
    ShiprailError,
    ToolCrashed,
    ToolMissing,
    UsageError,
)


@pytest.mark.parametrize(
    ("raised", "message"),
    [
        (NotFound("No such container: web-1"), "could not stop web-1: No such container: web-1"),
        (ImageNotFound("No such image: w:1"), "could not stop web-1: No such image: w:1"),
        (APIError("container is in use"), "could not stop web-1: container is in use"),
        (DockerException("engine said no"), "could not stop web-1: engine said no"),
        (
            requests.exceptions.ConnectionError("Connection aborted"),
            "could not stop web-1: Docker Engine unreachable: Connection aborted",
        ),
        (
            requests.exceptions.ReadTimeout("Read timed out. (read timeout=120)"),
            "could not stop web-1: Docker Engine unreachable: Read timed out. (read timeout=120)",
        ),
    ],
)
def test_sdk_exceptions_become_tool_crashed_with_the_sdk_error_as_cause(
    raised: Exception, message: str
) -> None:
    with pytest.raises(ToolCrashed) as info, docker_errors("could not stop web-1"):
        raise raised
    assert info.value.message == message
    assert info.value.__cause__ is raised
    assert info.value.exit_code == EXIT_TOOL


def test_the_caller_chooses_the_class_its_contract_names() -> None:
    raised = APIError("no space left on device")
    with (
        pytest.raises(DeployFailed) as info,
        docker_errors("Docker Engine refused to start r1", DeployFailed),
    ):
        raise raised
    assert str(info.value) == "Docker Engine refused to start r1: no space left on device"
    assert info.value.__cause__ is raised


def test_a_failed_build_quotes_its_reason_and_last_output_lines() -> None:
    log = [{"stream": f"Step {n}/7\n"} for n in range(1, 7)] + [{"error": "pip failed"}]
    raised = BuildError("The command returned a non-zero code: 1", iter(log))
    with pytest.raises(ToolCrashed) as info, docker_errors("docker build of w:1 failed"):
        raise raised
    assert info.value.message == (
        "docker build of w:1 failed: The command returned a non-zero code: 1; last output: "
        "Step 3/7 / Step 4/7 / Step 5/7 / Step 6/7 / pip failed"
    )
    assert info.value.__cause__ is raised


@pytest.mark.parametrize(
    "raised", [UsageError("image runs as root"), DeployFailed("replica crashed"), ValueError("x")]
)
def test_other_exceptions_pass_through_untouched(raised: Exception) -> None:
    with pytest.raises(type(raised)) as info, docker_errors("starting r1", DeployFailed):
        raise raised
    assert info.value is raised


def test_nothing_raised_nothing_mapped() -> None:
    with docker_errors("listing containers"):
        answer = 42
    assert answer == 42


@pytest.mark.parametrize("how", ["DOCKER_HOST", "base_url"])
def test_an_engine_that_does_not_answer_is_a_missing_tool(
    how: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = "tcp://127.0.0.1:1"  # nothing listens on port 1
    if how == "DOCKER_HOST":
        monkeypatch.setenv("DOCKER_HOST", url)
    with pytest.raises(ToolMissing) as info:
        _docker.docker_client(url if how == "base_url" else None)
    assert info.value.message.startswith(f"required tool 'Docker Engine ({url}: ")
    assert info.value.hint == f"install it: {DOCKER_INSTALL_HINT}"
    assert isinstance(info.value.__cause__, DockerException | requests.RequestException)
    assert info.value.exit_code == EXIT_TOOL


@pytest.mark.docker
def test_lookups_answer_none_for_what_the_engine_does_not_have(docker_client: Any) -> None:
    absent = f"shiprail-test-absent-{uuid.uuid4().hex[:8]}"
    assert find_image(docker_client, f"{absent}:none") is None
    assert find_container(docker_client, absent) is None
    assert find_network(docker_client, absent) is None
    assert find_network(docker_client, "bridge") is not None


@pytest.mark.docker
def test_a_real_engine_error_is_mapped_with_the_engine_message(docker_client: Any) -> None:
    absent = f"shiprail-test-absent-{uuid.uuid4().hex[:8]}"
    with pytest.raises(ShiprailError) as info, docker_errors(f"could not stop {absent}"):
        docker_client.containers.get(absent).stop()
    assert isinstance(info.value, ToolCrashed)
    assert isinstance(info.value.__cause__, NotFound)
    assert info.value.message.startswith(f"could not stop {absent}: 404 Client Error")
    assert absent in info.value.message


def test_at_once_runs_every_call_together_and_keeps_the_order() -> None:

    arrived = threading.Barrier(3, timeout=5)  # three calls wait for each other: parallel

    def slow_square(n: int) -> int:
        arrived.wait()
        return n * n

    assert at_once(slow_square, [3, 1, 2]) == [9, 1, 4]
    assert at_once(abs, [-4]) == [4]  # one item: no thread


def test_at_once_finishes_every_call_before_raising_the_first_error() -> None:
    done: list[int] = []

    def fail_on_odd(n: int) -> int:
        if n % 2:
            raise ValueError(f"odd {n}")
        time.sleep(0.05)
        done.append(n)
        return n

    with pytest.raises(ValueError, match="odd 1"):
        at_once(fail_on_odd, [1, 2, 3, 4])
    assert sorted(done) == [2, 4]
