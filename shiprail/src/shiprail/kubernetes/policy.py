"""Run the admission policies (``policies/kubernetes``) shift-left with the OPA binary.

The rules are Gatekeeper ConstraintTemplate bodies (``input.review.object``,
``input.parameters``); ``shiftleft.rego`` evaluates every rule over every object in one
``opa eval``, so the scan and admission use the same code and the same parameters.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from shiprail import _subprocess
from shiprail.errors import ConfigError, ToolCrashed
from shiprail.kubernetes.manifests import Manifest
from shiprail.kubernetes.settings import KubernetesConfig

OPA_TIMEOUT_SECONDS = 120.0
QUERY = "data.shiprail.kubernetes.shiftleft.violations"
SEVERITIES = ("critical", "high", "medium", "low")


@dataclass(frozen=True)
class RuleSpec:
    id: str
    kind: str
    severity: str
    title: str
    parameters: str | None = None


@dataclass(frozen=True)
class Violation:
    rule: RuleSpec
    manifest: Manifest
    message: str


def load_rules(policies: Path) -> list[RuleSpec]:
    """``rules.yaml``: the rule catalogue (id, Gatekeeper kind, severity, title)."""
    path = policies / "rules.yaml"
    rel = f"{policies.name}/rules.yaml"
    if not path.is_file():
        raise ConfigError("policy catalogue not found", path=rel)
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    rules = []
    for number, entry in enumerate(data.get("rules", []), start=1):
        try:
            rule = RuleSpec(**entry)
        except TypeError as exc:
            raise ConfigError(f"rule #{number}: {exc}", path=rel) from None
        if rule.severity not in SEVERITIES:
            raise ConfigError(f"rule {rule.id}: severity must be one of {SEVERITIES}", path=rel)
        if not (policies / "rules" / f"{rule.id}.rego").is_file():
            raise ConfigError(f"rule {rule.id}: rules/{rule.id}.rego is missing", path=rel)
        rules.append(rule)
    return rules


def parameters(rule: RuleSpec, config: KubernetesConfig) -> dict[str, Any]:
    """The constraint parameters of a rule, from shiprail.yaml."""
    if rule.parameters == "registries":
        return {"registries": list(config.allowed_registries)}
    if rule.parameters == "capabilities":
        return {"allowed": list(config.allowed_capabilities)}
    return {}


def module_paths(policies: Path) -> list[Path]:
    """The Rego modules evaluated shift-left (library, rules, entry point; not the tests)."""
    return [policies / "lib", policies / "rules", policies / "shiftleft.rego"]


def evaluate(manifests: list[Manifest], config: KubernetesConfig, root: Path) -> list[Violation]:
    """Every rule's violations over ``manifests``."""
    if not manifests:
        return []
    policies = root / config.policies
    rules = {rule.id: rule for rule in load_rules(policies)}
    document = {
        "objects": [m.obj for m in manifests],
        "rules": {rule.id: parameters(rule, config) for rule in rules.values()},
    }
    args = ["opa", "eval", "--format", "json", "--stdin-input"]
    for path in module_paths(policies):
        args += ["--data", str(path)]
    result = _subprocess.run(
        [*args, QUERY],
        input_text=json.dumps(document),
        timeout=OPA_TIMEOUT_SECONDS,
        ok_codes=None,
    )
    if result.returncode != 0:
        raise ToolCrashed(f"opa eval failed: {(result.stderr or result.stdout).strip()[:500]}")
    try:
        payload = json.loads(result.stdout)
        values = payload["result"][0]["expressions"][0]["value"] if payload.get("result") else []
    except (json.JSONDecodeError, KeyError, IndexError) as exc:
        raise ToolCrashed(f"opa eval printed unexpected output: {exc}") from exc
    violations = [
        Violation(rules[item["rule"]], manifests[item["index"]], item["msg"]) for item in values
    ]
    return sorted(violations, key=lambda v: (v.manifest.source, v.rule.id, v.message))
