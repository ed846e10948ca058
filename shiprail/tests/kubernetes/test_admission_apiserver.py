"""The ValidatingAdmissionPolicies on a real kube-apiserver: applied as committed, they refuse
what the Rego refuses (with the rule named in the message) and admit the chart of every
environment. Admission runs on ``--dry-run=server`` exactly as on a real create, so nothing
needs to run; a Deployment is judged by its pod template when it is applied, not later when
its controller creates pods."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from shiprail.kubernetes import admission, render
from shiprail.kubernetes.settings import KubernetesConfig

from .apiserver_fixture import ApiServer, kube_apiserver  # noqa: F401 - the session fixture
from .conftest import REPO
from .test_policies import GOOD
from conftest import require_tools

NAMESPACE = "team"
ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
ACTIVE_TIMEOUT_SECONDS = 60.0
#: API groups the bare API server serves; the chart's CRD-based objects (HTTPRoute,
#: ServiceMonitor, PrometheusRule) are not what admission of workloads is about.
BUILTIN_GROUPS = {"", "apps", "batch", "policy", "autoscaling", "networking.k8s.io"}


Change = Callable[[dict[str, Any], dict[str, Any]], object]


def _pod(name: str, change: Change | None = None) -> dict[str, Any]:
    """The compliant workload of the policy tests as a Pod, with one thing changed by
    ``change(pod_spec, container)``."""
    spec = copy.deepcopy(GOOD["spec"]["template"]["spec"])
    if change is not None:
        change(spec, spec["containers"][0])
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": spec,
    }


def _dry_run(server: ApiServer, obj: dict[str, Any]) -> tuple[bool, str]:
    """(admitted, what the server said) for a server-side dry-run create."""
    result = server.kubectl("create", "--dry-run=server", "-f", "-", input_text=yaml.safe_dump(obj))
    return result.returncode == 0, (result.stdout + result.stderr).strip()


#: Changes that each break exactly one rule, and the start of that rule's message.
REFUSALS: dict[str, tuple[Change, str]] = {
    "disallowlatest": (
        lambda _s, c: c.update(image=f"{ECR}/api:latest"),
        'Pod/bad: container "api" uses the mutable tag "latest"',
    ),
    "requiredresources": (
        lambda _s, c: c["resources"].pop("limits"),
        'Pod/bad: container "api" has no cpu limit (and 1 more)',
    ),
    "allowedregistries": (
        lambda _s, c: c.update(image="docker.io/library/nginx:1.27"),
        'Pod/bad: container "api" uses "docker.io/library/nginx:1.27", which is outside',
    ),
    "capabilities": (
        lambda _s, c: c["securityContext"]["capabilities"].update(add=["NET_ADMIN"]),
        'Pod/bad: container "api" adds the capability NET_ADMIN',
    ),
    "privilegeescalation": (
        lambda _s, c: c["securityContext"].update(allowPrivilegeEscalation=True),
        'Pod/bad: container "api" does not set securityContext.allowPrivilegeEscalation: false',
    ),
    "readonlyrootfs": (
        lambda _s, c: c["securityContext"].pop("readOnlyRootFilesystem"),
        'Pod/bad: container "api" has a writable root filesystem',
    ),
    "probes": (
        lambda _s, c: c.pop("livenessProbe"),
        'Pod/bad: container "api" has no livenessProbe',
    ),
    "runasnonroot": (
        lambda s, _c: s["securityContext"].update(runAsNonRoot=False),
        'Pod/bad: container "api" may run as root',
    ),
    "hostpath": (
        lambda s, _c: s.update(volumes=[{"name": "etc", "hostPath": {"path": "/etc"}}]),
        'Pod/bad: volume "etc" mounts the host path "/etc"',
    ),
    "hostnamespaces": (
        lambda s, _c: s.update(hostPID=True),
        "Pod/bad: uses the host's namespace (hostPID: true)",
    ),
}


@pytest.fixture(scope="module")
def cluster(kube_apiserver: ApiServer) -> ApiServer:  # noqa: F811 - the imported fixture
    """The server with the committed policies applied and enforcing."""
    server = kube_apiserver
    server.namespace(NAMESPACE)
    path = REPO / KubernetesConfig().admission / admission.POLICIES_FILE
    applied = server.kubectl("apply", "--server-side", "-f", str(path))
    assert applied.returncode == 0, applied.stderr
    # The API server loads new policies and bindings asynchronously, each in its own time: a
    # policy is active once a Pod breaking only its rule is refused by it.
    waiting = dict(REFUSALS)
    deadline = time.monotonic() + ACTIVE_TIMEOUT_SECONDS
    while waiting:
        for rule, (change, _message) in list(waiting.items()):
            admitted, said = _dry_run(server, _pod("probe", change))
            if not admitted and f"[shiprail-{rule}]" in said:
                del waiting[rule]
        if time.monotonic() > deadline:
            pytest.fail(
                f"policies not active after {ACTIVE_TIMEOUT_SECONDS:.0f}s: {sorted(waiting)}"
            )
        time.sleep(0.2)
    return server


def test_the_compliant_pod_is_admitted(cluster: ApiServer) -> None:
    admitted, said = _dry_run(cluster, _pod("good"))
    assert admitted, said


@pytest.mark.parametrize("rule", sorted(REFUSALS))
def test_a_pod_breaking_one_rule_is_refused_with_its_message(cluster: ApiServer, rule: str) -> None:
    change, message = REFUSALS[rule]
    admitted, said = _dry_run(cluster, _pod("bad", change))
    assert not admitted
    assert f"ValidatingAdmissionPolicy 'shiprail-{rule}'" in said
    assert f"[shiprail-{rule}] {message}" in said


def test_a_privileged_pod_is_refused(cluster: ApiServer) -> None:
    """A privileged container cannot keep ``allowPrivilegeEscalation: false`` (the API server
    rejects the pair), so it breaks two rules; the server reports one denial, that of the
    first failing policy in an order it does not define."""
    pod = _pod("bad", lambda _s, c: c["securityContext"].update(privileged=True))
    del pod["spec"]["containers"][0]["securityContext"]["allowPrivilegeEscalation"]
    admitted, said = _dry_run(cluster, pod)
    assert not admitted
    assert (
        '[shiprail-privileged] Pod/bad: container "api" is privileged' in said
        or '[shiprail-privilegeescalation] Pod/bad: container "api" does not set' in said
    ), said


def test_a_deployment_is_refused_for_its_pod_template(cluster: ApiServer) -> None:
    deployment = copy.deepcopy(GOOD)
    deployment["metadata"]["namespace"] = NAMESPACE
    deployment["spec"]["selector"] = {"matchLabels": {"app": "api"}}
    deployment["spec"]["template"]["metadata"] = {"labels": {"app": "api"}}
    admitted, said = _dry_run(cluster, deployment)
    assert admitted, said
    init = copy.deepcopy(GOOD["spec"]["template"]["spec"]["containers"][0])
    init.update(name="init", image=f"{ECR}/migrate:latest")
    del init["livenessProbe"], init["readinessProbe"]  # init containers take no probes
    deployment["spec"]["template"]["spec"]["initContainers"] = [init]
    admitted, said = _dry_run(cluster, deployment)
    assert not admitted
    assert '[shiprail-disallowlatest] Deployment/api: initContainer "init" uses the mutable' in said


def test_a_cronjob_is_refused_for_its_job_template(cluster: ApiServer) -> None:
    pod = _pod("x", lambda _s, c: c.update(image=f"{ECR}/api"))
    cronjob = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "nightly", "namespace": NAMESPACE},
        "spec": {
            "schedule": "0 3 * * *",
            "jobTemplate": {
                "spec": {"template": {"spec": {**pod["spec"], "restartPolicy": "OnFailure"}}}
            },
        },
    }
    admitted, said = _dry_run(cluster, cronjob)
    assert not admitted
    assert '[shiprail-disallowlatest] CronJob/nightly: container "api" uses the untagged' in said


def test_an_ephemeral_debug_container_is_refused(cluster: ApiServer) -> None:
    created = cluster.kubectl("create", "-f", "-", input_text=yaml.safe_dump(_pod("running")))
    assert created.returncode == 0, created.stderr
    debug = cluster.kubectl(
        "debug", "-n", NAMESPACE, "pod/running", "--image=busybox:1.36", "--attach=false"
    )
    assert debug.returncode != 0
    assert "[shiprail-" in debug.stderr and 'ephemeralContainer "debugger' in debug.stderr


def test_excluded_namespaces_are_not_judged(cluster: ApiServer) -> None:
    cluster.namespace("kube-system")
    pod = _pod("bad", lambda _s, c: c.update(image="docker.io/library/nginx:latest"))
    pod["metadata"]["namespace"] = "kube-system"
    admitted, said = _dry_run(cluster, pod)
    assert admitted, said


@pytest.mark.parametrize("environment", ["dev", "stage", "prod"])
def test_the_rendered_chart_is_admitted(cluster: ApiServer, environment: str) -> None:
    require_tools("helm")
    config = KubernetesConfig()
    rendered = render.render(config, config.environment(environment), REPO)
    objects = [m.obj for m in rendered.manifests]
    for namespace in [o for o in objects if o["kind"] == "Namespace"]:
        applied = cluster.kubectl("apply", "-f", "-", input_text=yaml.safe_dump(namespace))
        assert applied.returncode == 0, applied.stderr
    judged = [
        o
        for o in objects
        if o["kind"] != "Namespace" and o["apiVersion"].rpartition("/")[0] in BUILTIN_GROUPS
    ]
    assert any(o["kind"] == "Deployment" for o in judged)
    text = yaml.safe_dump_all(judged)
    result = cluster.kubectl("create", "--dry-run=server", "-f", "-", input_text=text)
    assert result.returncode == 0, result.stderr
    assert "deployment.apps/workorders created (server dry run)" in result.stdout


def test_the_policies_applied_are_the_committed_ones(cluster: ApiServer) -> None:
    names = cluster.kubectl(
        "get", "validatingadmissionpolicies", "-o", "jsonpath={.items[*].metadata.name}"
    )
    expected = {
        d["metadata"]["name"]
        for d in yaml.safe_load_all(
            (REPO / "gitops" / "admission" / admission.POLICIES_FILE).read_text()
        )
        if d
    }
    assert set(names.stdout.split()) == expected
