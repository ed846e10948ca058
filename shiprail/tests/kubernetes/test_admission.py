"""The ValidatingAdmissionPolicies: generated, committed, schema-valid, and equivalent to
the Rego rules. Equivalence is checked by evaluating the policies' CEL with the pure-Python
interpreter (``cel-python``) over the inputs the Rego is tested on (the cases of
``policies/kubernetes/tests``, the insecure scan corpus, the rendered chart) and comparing
every verdict, and every message, with what OPA says for the same object."""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import celpy
import pytest

from shiprail import _subprocess
from shiprail.errors import ConfigError
from shiprail.kubernetes import admission, gatekeeper, policy, render, schema
from shiprail.kubernetes.check import committed_manifest_files
from shiprail.kubernetes.checks import CHECKS
from shiprail.kubernetes.checks.interface import CheckContext
from shiprail.kubernetes.crds import CrdIndex
from shiprail.kubernetes.manifests import Manifest, load_manifest_files
from shiprail.kubernetes.settings import KubernetesConfig

from .conftest import REPO
from .test_policies import BREAKERS, GOOD
from conftest import require_tools

#: Kind -> (API group, resource) of the objects the policies judge.
KIND_RESOURCES = {
    "Pod": ("", "pods"),
    "ReplicationController": ("", "replicationcontrollers"),
    "Deployment": ("apps", "deployments"),
    "StatefulSet": ("apps", "statefulsets"),
    "DaemonSet": ("apps", "daemonsets"),
    "ReplicaSet": ("apps", "replicasets"),
    "Job": ("batch", "jobs"),
    "CronJob": ("batch", "cronjobs"),
}


class CelPolicy:
    """One generated ValidatingAdmissionPolicy, evaluated the way kube-apiserver does: match
    on the resource, the variables in order (each sees the earlier ones), then the
    validations; a false validation's message is its ``messageExpression``."""

    def __init__(self, document: dict[str, Any]) -> None:
        env = celpy.Environment()
        spec = document["spec"]
        self.name: str = document["metadata"]["name"]
        self.rule = self.name.removeprefix("shiprail-")
        self.resources = {
            (group, resource)
            for rule in spec["matchConstraints"]["resourceRules"]
            for group in rule["apiGroups"]
            for resource in rule["resources"]
        }
        self.variables = [
            (v["name"], env.program(env.compile(v["expression"]))) for v in spec["variables"]
        ]
        self.validations = [
            (
                env.program(env.compile(v["expression"])),
                env.program(env.compile(v["messageExpression"])),
            )
            for v in spec["validations"]
        ]

    def matches(self, obj: dict[str, Any]) -> bool:
        return KIND_RESOURCES.get(obj.get("kind", "")) in self.resources

    def _activation(self, obj: dict[str, Any]) -> dict[str, Any]:
        activation: dict[str, Any] = {"object": celpy.json_to_cel(obj)}
        values: dict[Any, Any] = {}
        for name, program in self.variables:
            activation["variables"] = celpy.celtypes.MapType(values)
            values[celpy.celtypes.StringType(name)] = program.evaluate(activation)
        activation["variables"] = celpy.celtypes.MapType(values)
        return activation

    def violations(self, obj: dict[str, Any]) -> list[str]:
        """The messages ``variables.violations`` lists ([] for an object not matched)."""
        if not self.matches(obj):
            return []
        return [str(m) for m in self._activation(obj)[_VARIABLES][_VIOLATIONS]]

    def refusal(self, obj: dict[str, Any]) -> str | None:
        """The API server's message when a validation fails, else None."""
        if not self.matches(obj):
            return None
        activation = self._activation(obj)
        for expression, message in self.validations:
            if not bool(expression.evaluate(activation)):
                return str(message.evaluate(activation))
        return None


_VARIABLES = "variables"
_VIOLATIONS = celpy.celtypes.StringType("violations")


@pytest.fixture(scope="module")
def bundle_config() -> KubernetesConfig:
    return KubernetesConfig()


@pytest.fixture(scope="module")
def documents(bundle_config: KubernetesConfig) -> list[dict[str, Any]]:
    return admission.documents(bundle_config, REPO)


@pytest.fixture(scope="module")
def cel(documents: list[dict[str, Any]]) -> dict[str, CelPolicy]:
    policies = [CelPolicy(d) for d in documents if d["kind"] == "ValidatingAdmissionPolicy"]
    return {p.rule: p for p in policies}


# --- generated, committed, valid ------------------------------------------------------------


def test_committed_policies_are_up_to_date_and_stable(bundle_config: KubernetesConfig) -> None:
    assert admission.stale(bundle_config, REPO) == []
    assert admission.bundle(bundle_config, REPO) == admission.bundle(bundle_config, REPO)


def test_one_denying_policy_and_binding_per_rule(documents: list[dict[str, Any]]) -> None:
    rules = policy.load_rules(REPO / "policies" / "kubernetes")
    policies = {d["metadata"]["name"]: d for d in documents if d["kind"].endswith("Policy")}
    bindings = {d["metadata"]["name"]: d for d in documents if d["kind"].endswith("Binding")}
    names = {f"shiprail-{rule.id}" for rule in rules}
    assert set(policies) == names == set(bindings)
    for name, binding in bindings.items():
        assert binding["spec"]["policyName"] == name
        assert binding["spec"]["validationActions"] == ["Deny"]
        (selector,) = binding["spec"]["matchResources"]["namespaceSelector"]["matchExpressions"]
        assert selector["operator"] == "NotIn"
        assert set(selector["values"]) == set(gatekeeper.EXCLUDED_NAMESPACES)
        assert policies[name]["spec"]["failurePolicy"] == "Fail"


def test_policies_match_the_kinds_the_constraints_match(cel: dict[str, CelPolicy]) -> None:
    constraint_kinds = {kind for entry in gatekeeper.MATCH_KINDS for kind in entry["kinds"]}
    assert set(KIND_RESOURCES) == constraint_kinds
    for kind, (group, _resource) in KIND_RESOURCES.items():
        assert any(group in e["apiGroups"] and kind in e["kinds"] for e in gatekeeper.MATCH_KINDS)
    for one in cel.values():
        assert set(KIND_RESOURCES.values()) | {("", "pods/ephemeralcontainers")} == one.resources


def test_policies_are_schema_valid(bundle_config: KubernetesConfig) -> None:
    require_tools("kubernetes-validate")
    manifests = load_manifest_files(
        REPO, [Path(bundle_config.admission) / admission.POLICIES_FILE], "gitops"
    )
    assert len(manifests) == 24
    problems = schema.validate(manifests, CrdIndex({}, "none"), bundle_config.kubernetes_version)
    assert problems == []


def test_kubernetes_check_validates_the_policies_wherever_they_are(repo: Path) -> None:
    rel = Path("gitops/admission") / admission.POLICIES_FILE
    assert rel in committed_manifest_files(repo, KubernetesConfig())
    (repo / "cluster-policies").mkdir()
    shutil.move(repo / rel, repo / "cluster-policies" / admission.POLICIES_FILE)
    elsewhere = KubernetesConfig(admission="cluster-policies")
    assert Path("cluster-policies") / admission.POLICIES_FILE in committed_manifest_files(
        repo, elsewhere
    )
    assert admission.stale(elsewhere, repo) == []


def test_a_schema_error_in_a_policy_is_found() -> None:
    require_tools("kubernetes-validate")
    document = admission.documents(KubernetesConfig(), REPO)[1]
    broken = copy.deepcopy(document)
    broken["spec"]["validationActionz"] = broken["spec"].pop("validationActions")
    problems = schema.validate_builtin([Manifest("gitops", "x.yaml", 1, broken)], "1.31.0")
    assert problems and "validationActionz" in problems[0].message


def test_registries_come_from_the_config() -> None:
    config = KubernetesConfig(allowed_registries=[r"^example\.azurecr\.io/"])
    (one,) = [
        CelPolicy(d)
        for d in admission.documents(config, REPO)
        if d["metadata"]["name"] == "shiprail-allowedregistries" and d["kind"].endswith("Policy")
    ]
    pod = _pod("example.azurecr.io/api:1.0")
    assert one.violations(pod) == []
    pod["spec"]["containers"][0]["image"] = "123456789012.dkr.ecr.us-east-1.amazonaws.com/api:1"
    assert "outside the allowed registries" in one.violations(pod)[0]


def test_a_changed_config_makes_the_file_stale_until_rewritten(repo: Path) -> None:
    config = KubernetesConfig(allowed_capabilities=["NET_BIND_SERVICE"])
    rel = f"{config.admission}/{admission.POLICIES_FILE}"
    assert admission.stale(config, repo) == [rel]
    assert admission.write(config, repo) == [rel]
    assert admission.stale(config, repo) == []
    shutil.rmtree(repo / config.admission)
    assert admission.stale(config, repo) == [rel]


def test_a_rule_without_a_translation_is_a_config_error(repo: Path) -> None:
    policies = repo / "policies" / "kubernetes"
    (policies / "rules" / "newrule.rego").write_text("package shiprail.kubernetes.rules.newrule\n")
    with (policies / "rules.yaml").open("a") as catalogue:
        catalogue.write("  - {id: newrule, kind: ShiprailNewRule, severity: low, title: New}\n")
    with pytest.raises(ConfigError, match="newrule has no ValidatingAdmissionPolicy"):
        admission.documents(KubernetesConfig(), repo)


def test_kubernetes_check_reports_a_stale_file(repo: Path) -> None:
    path = repo / "gitops" / "admission" / admission.POLICIES_FILE
    path.write_text(path.read_text() + "# edited by hand\n")
    context = CheckContext(
        config=KubernetesConfig(),
        root=repo,
        rendered={},
        committed=[],
        crd_index=CrdIndex({}, "none"),
        include_committed=True,
        use_checkov=False,
        read_elsewhere=lambda _path: False,
    )
    (check,) = [c for c in CHECKS if c.name == "admission-stale"]
    (finding,) = check.run(context)
    assert finding.rule.id == "k8s-admission-stale"  # type: ignore[union-attr]


def test_admission_check_exits_1_when_stale_and_0_once_written(repo: Path) -> None:
    from typer.testing import CliRunner

    from shiprail.cli import app

    (repo / "shiprail.yaml").write_text("kubernetes: {allowed_capabilities: [NET_RAW]}\n")
    check = ["k8s", "admission", "--check", "--config", str(repo / "shiprail.yaml")]
    stale = CliRunner().invoke(app, check)
    assert stale.exit_code == 1, stale.output
    assert "stale ValidatingAdmissionPolicies" in stale.output and "--write" in stale.output
    written = CliRunner().invoke(app, ["k8s", "admission", "--write", *check[3:]])
    assert written.exit_code == 0, written.output
    fresh = CliRunner().invoke(app, check)
    assert fresh.exit_code == 0 and "up to date" in fresh.output
    text = (repo / "gitops" / "admission" / admission.POLICIES_FILE).read_text()
    assert "'NET_RAW'" in text


# --- equivalence with the Rego --------------------------------------------------------------


def _pod(image: str) -> dict[str, Any]:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}
    pod["spec"] = copy.deepcopy(GOOD["spec"]["template"]["spec"])
    pod["spec"]["containers"][0]["image"] = image
    return pod


def _patch(document: dict[str, Any], ops: list[dict[str, Any]]) -> dict[str, Any]:
    """RFC 6902 add/remove/replace, enough for the Rego tests' patches."""
    out = copy.deepcopy(document)
    for op in ops:
        *parents, last = op["path"].lstrip("/").split("/")
        node: Any = out
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if op["op"] == "remove":
            del node[int(last) if isinstance(node, list) else last]
        elif isinstance(node, list):
            node.insert(len(node) if last == "-" else int(last), op["value"])
        else:
            node[last] = op["value"]
    return out


def _rego_fixtures() -> dict[str, Any]:
    require_tools("opa")
    fixtures = REPO / "policies" / "kubernetes" / "tests" / "fixtures.rego"
    result = _subprocess.run(
        [
            "opa",
            "eval",
            "--format",
            "json",
            "--data",
            str(fixtures),
            "data.test.shiprail.kubernetes.fixtures",
        ]
    )
    value: dict[str, Any] = json.loads(result.stdout)["result"][0]["expressions"][0]["value"]
    return value


def _rego_test_cases() -> Iterator[tuple[str, dict[str, Any]]]:
    """The objects ``policies/kubernetes/tests/rules_test.rego`` feeds the rules."""
    f = _rego_fixtures()
    c, p = f["container_path"], f["pod_spec_path"]
    digest = "sha256:4b2f1ae1f0b43b1f4b9d3fae33f1c5d1e7c39e0b5a4c2e8d9f6a7b8c9d0e1f2a"
    ecr = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/workorders"
    patches: dict[str, list[dict[str, Any]]] = {
        "missing-limits": [{"op": "remove", "path": f"{c}/resources/limits"}],
        "missing-cpu-request": [{"op": "remove", "path": f"{c}/resources/requests/cpu"}],
        "digest": [{"op": "replace", "path": f"{c}/image", "value": f"{ecr}@{digest}"}],
        "port-and-tag": [
            {"op": "replace", "path": f"{c}/image", "value": "registry.local:5000/workorders:1.0"}
        ],
        "latest": [
            {"op": "replace", "path": f"{c}/image", "value": "myacr.azurecr.io/workorders:latest"}
        ],
        "untagged": [
            {"op": "replace", "path": f"{c}/image", "value": "registry.local:5000/workorders"}
        ],
        "acr": [
            {"op": "replace", "path": f"{c}/image", "value": "shiprail.azurecr.io/workorders:1.4.2"}
        ],
        "docker-hub": [
            {"op": "replace", "path": f"{c}/image", "value": "docker.io/library/python:3.11"}
        ],
        "lookalike": [
            {
                "op": "replace",
                "path": f"{c}/image",
                "value": "evil.example.com/shiprail.azurecr.io/workorders:1",
            }
        ],
        "privileged": [{"op": "replace", "path": f"{c}/securityContext/privileged", "value": True}],
        "escalation-true": [
            {
                "op": "replace",
                "path": f"{c}/securityContext/allowPrivilegeEscalation",
                "value": True,
            }
        ],
        "escalation-unset": [
            {"op": "remove", "path": f"{c}/securityContext/allowPrivilegeEscalation"}
        ],
        "nonroot-container-level": [
            {"op": "remove", "path": f"{p}/securityContext/runAsNonRoot"},
            {"op": "add", "path": f"{c}/securityContext/runAsNonRoot", "value": True},
        ],
        "nonroot-unset": [{"op": "remove", "path": f"{p}/securityContext/runAsNonRoot"}],
        "nonroot-container-override": [
            {"op": "add", "path": f"{c}/securityContext/runAsNonRoot", "value": False}
        ],
        "uid-zero": [{"op": "add", "path": f"{c}/securityContext/runAsUser", "value": 0}],
        "writable-root": [
            {"op": "replace", "path": f"{c}/securityContext/readOnlyRootFilesystem", "value": False}
        ],
        "net-admin": [
            {"op": "add", "path": f"{c}/securityContext/capabilities/add", "value": ["NET_ADMIN"]}
        ],
        "hostpath": [
            {
                "op": "add",
                "path": f"{p}/volumes/-",
                "value": {"name": "docker", "hostPath": {"path": "/var/run/docker.sock"}},
            }
        ],
        **{
            field: [{"op": "add", "path": f"{p}/{field}", "value": True}]
            for field in ("hostNetwork", "hostPID", "hostIPC")
        },
        "no-readiness": [{"op": "remove", "path": f"{c}/readinessProbe"}],
        "no-liveness": [{"op": "remove", "path": f"{c}/livenessProbe"}],
        "no-pull-policy": [{"op": "remove", "path": f"{c}/imagePullPolicy"}],
    }
    yield "fixture-deployment", f["deployment"]
    yield "fixture-pod", f["pod"]
    yield "fixture-cronjob", f["cronjob"]
    for name, ops in patches.items():
        yield name, _patch(f["deployment"], ops)
    yield (
        "pod-no-pull-policy",
        _patch(f["pod"], [{"op": "remove", "path": "/spec/containers/0/imagePullPolicy"}]),
    )
    jobspec = "/spec/jobTemplate/spec/template/spec/containers/0/securityContext/privileged"
    yield (
        "privileged-cronjob",
        _patch(f["cronjob"], [{"op": "replace", "path": jobspec, "value": True}]),
    )
    yield "service", {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "w"}, "spec": {}}


def _edge_cases() -> Iterator[tuple[str, dict[str, Any]]]:
    """Cases the Rego tests do not spell out: every kind, init and ephemeral containers,
    odd image references, security settings at pod level only."""
    pod_spec = GOOD["spec"]["template"]["spec"]
    template = {"spec": copy.deepcopy(pod_spec)}
    for kind, (group, _) in KIND_RESOURCES.items():
        api = f"{group}/v1" if group else "v1"
        obj: dict[str, Any] = {"apiVersion": api, "kind": kind, "metadata": {"name": "k"}}
        if kind == "Pod":
            obj["spec"] = copy.deepcopy(pod_spec)
        elif kind == "CronJob":
            obj["spec"] = {"jobTemplate": {"spec": {"template": copy.deepcopy(template)}}}
        else:
            obj["spec"] = {"template": copy.deepcopy(template)}
        yield f"{kind}-good", obj
        bad = copy.deepcopy(obj)
        spec = (
            bad["spec"]
            if kind == "Pod"
            else (
                bad["spec"]["jobTemplate"]["spec"]["template"]["spec"]
                if kind == "CronJob"
                else bad["spec"]["template"]["spec"]
            )
        )
        spec["initContainers"] = [{"name": "init", "image": "busybox"}]
        spec["ephemeralContainers"] = [
            {"name": "debug", "image": "busybox:latest", "securityContext": {"privileged": True}}
        ]
        yield f"{kind}-init-and-ephemeral", bad
    for image in (
        "nginx",
        "nginx:",
        "nginx@sha256:abc",
        "nginx:latest@sha256:abc",
        "localhost:5000/nginx",
        "localhost:5000/nginx:latest",
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/a/b:latest",
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/api:latest-1",
        "x123456789012.dkr.ecr.us-east-1.amazonaws.com/api:1",
        "abcde.azurecr.io/api",
    ):
        yield f"image {image}", _pod(image)
    pod_level = _pod("abcde.azurecr.io/api:1")
    pod_level["spec"]["securityContext"] = {"runAsNonRoot": True, "runAsUser": 0}
    yield "pod-level-uid-zero", pod_level
    overridden = copy.deepcopy(pod_level)
    overridden["spec"]["containers"][0]["securityContext"]["runAsUser"] = 1000
    yield "container-uid-overrides-pod", overridden
    caps = _pod("abcde.azurecr.io/api:1")
    caps["spec"]["containers"][0]["securityContext"]["capabilities"]["add"] = ["CHOWN", "NET_RAW"]
    yield "two-capabilities", caps
    unnamed = _pod("abcde.azurecr.io/api:1")
    del unnamed["metadata"]["name"]
    unnamed["spec"]["hostNetwork"] = True
    yield "unnamed-host-network", unnamed
    for rule, breaker in sorted(BREAKERS.items()):
        broken = copy.deepcopy(GOOD)
        breaker(broken)
        yield f"breaker-{rule}", broken


def _corpus() -> Iterator[tuple[str, dict[str, Any]]]:
    directory = REPO / "shiprail" / "tests" / "scan" / "corpus" / "insecure" / "k8s"
    files = [p.relative_to(REPO) for p in sorted(directory.glob("*.yaml"))]
    for manifest in load_manifest_files(REPO, files, "corpus"):
        yield f"corpus {manifest.display}", manifest.obj


def _rendered(config: KubernetesConfig) -> Iterator[tuple[str, dict[str, Any]]]:
    require_tools("helm")
    for env in config.environments:
        for manifest in render.render(config, env, REPO).manifests:
            yield f"{env.name} {manifest.display}", manifest.obj


def _assert_equivalent(
    cases: list[tuple[str, dict[str, Any]]], cel: dict[str, CelPolicy], config: KubernetesConfig
) -> set[str]:
    """Compare every (object, rule) verdict; returns the rules that refused something."""
    require_tools("opa")
    manifests = [Manifest("test", name, 1, obj) for name, obj in cases]
    rego: dict[tuple[str, str], set[str]] = {}
    for violation in policy.evaluate(manifests, config, REPO):
        rego.setdefault((violation.manifest.source, violation.rule.id), set()).add(
            violation.message
        )
    mismatches, refusing = [], set()
    for name, obj in cases:
        for rule, one in cel.items():
            expected = rego.get((name, rule), set())
            got = one.violations(obj)
            # capabilities names the first forbidden capability of a container, the Rego
            # each one: the verdicts agree, and every CEL message is one the Rego gives.
            same = set(got) <= expected and bool(got) == bool(expected)
            if rule != "capabilities":
                same = same and set(got) == expected and len(got) == len(expected)
            if not same:
                mismatches.append(f"{name} / {rule}: rego {sorted(expected)} cel {got}")
            if got:
                refusing.add(rule)
    assert mismatches == []
    return refusing


def test_cel_agrees_with_rego_on_the_rego_test_cases(
    cel: dict[str, CelPolicy], bundle_config: KubernetesConfig
) -> None:
    cases = list(_rego_test_cases())
    assert len(cases) > 25
    assert _assert_equivalent(cases, cel, bundle_config) == set(cel)


def test_cel_agrees_with_rego_on_edge_cases_and_the_insecure_corpus(
    cel: dict[str, CelPolicy], bundle_config: KubernetesConfig
) -> None:
    cases = [*_edge_cases(), *_corpus()]
    assert any(name.startswith("corpus Pod/") for name, _ in cases)
    assert _assert_equivalent(cases, cel, bundle_config) == set(cel)


def test_cel_agrees_with_rego_on_the_rendered_chart_which_both_admit(
    cel: dict[str, CelPolicy], bundle_config: KubernetesConfig
) -> None:
    cases = list(_rendered(bundle_config))
    assert sum(obj["kind"] == "Deployment" for _, obj in cases) == len(bundle_config.environments)
    assert _assert_equivalent(cases, cel, bundle_config) == set()
    assert [n for n, obj in cases for p in cel.values() if p.refusal(obj)] == []


def test_refusal_message_names_the_rule_and_the_first_violation(
    cel: dict[str, CelPolicy],
) -> None:
    pod = _pod("abcde.azurecr.io/api:1")
    pod["spec"]["containers"].append(copy.deepcopy(pod["spec"]["containers"][0]) | {"name": "b"})
    for container in pod["spec"]["containers"]:
        container["securityContext"]["privileged"] = True
    assert cel["privileged"].refusal(pod) == (
        '[shiprail-privileged] Pod/p: container "api" is privileged (and 1 more)'
    )
    assert cel["probes"].refusal(pod) is None
