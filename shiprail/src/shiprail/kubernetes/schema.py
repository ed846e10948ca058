"""Schema validation of every object: built-in kinds with ``kubernetes-validate`` (the
Kubernetes OpenAPI schemas ship inside the package, strict mode rejects unknown fields),
custom resources with their CRD schemas (:mod:`shiprail.kubernetes.crds`)."""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from shiprail import _subprocess
from shiprail.kubernetes.crds import CrdIndex
from shiprail.kubernetes.manifests import Manifest

VALIDATE_TIMEOUT_SECONDS = 300.0
_LINE = re.compile(r"^(ERROR|WARN|INFO)\s+(\S+)\s+(.*)$")
_DETAIL = re.compile(r"did not validate for resource \S+ against version [0-9.]+: (.*)$")


@dataclass(frozen=True)
class SchemaProblem:
    """One object that failed validation (``unvalidated``: no schema exists for its kind)."""

    manifest: Manifest
    path: str
    message: str
    validator: str
    unvalidated: bool = False


def validate_builtin(manifests: list[Manifest], kubernetes_version: str) -> list[SchemaProblem]:
    """Run ``kubernetes-validate --strict`` over the objects, one file each."""
    if not manifests:
        return []
    problems = []
    with tempfile.TemporaryDirectory(prefix="shiprail-k8s-validate-") as tmp:
        by_file: dict[str, Manifest] = {}
        for number, manifest in enumerate(manifests):
            path = Path(tmp) / f"{number:04d}.yaml"
            path.write_text(yaml.safe_dump(manifest.obj, sort_keys=False), encoding="utf-8")
            by_file[str(path)] = manifest
        result = _subprocess.run(
            ["kubernetes-validate", "-k", kubernetes_version, "--strict", "--quiet", *by_file],
            timeout=VALIDATE_TIMEOUT_SECONDS,
            ok_codes=None,
            install_hint="scripts/install-tools.sh kubernetes-validate",
        )
        for raw in (result.stdout + "\n" + result.stderr).splitlines():
            match = _LINE.match(raw.strip())
            if not match or match.group(2) not in by_file:
                continue
            level, file, rest = match.groups()
            manifest = by_file[file]
            if level == "ERROR":
                detail = _DETAIL.search(rest)
                message = detail.group(1) if detail else rest
                where = message.split(":", 1)[0] if ":" in message and detail else ""
                problems.append(SchemaProblem(manifest, where, message, "kubernetes-validate"))
            elif level == "WARN" and "Couldn't find schema" in rest:
                problems.append(
                    SchemaProblem(
                        manifest,
                        "",
                        f"no schema for {manifest.api_version} {manifest.kind}; not validated",
                        "kubernetes-validate",
                        unvalidated=True,
                    )
                )
    return problems


def validate(
    manifests: list[Manifest], crds: CrdIndex, kubernetes_version: str
) -> list[SchemaProblem]:
    """Every schema problem of ``manifests``: CRD kinds in-process, the rest with the tool."""
    problems = []
    builtin = []
    for manifest in manifests:
        if not manifest.api_version or not manifest.kind:
            problems.append(
                SchemaProblem(manifest, "", "apiVersion and kind are required", "schema")
            )
        elif crds.knows(manifest.api_version, manifest.kind):
            for error in crds.validate(manifest.obj):
                message = f"{error.path}: {error.message}" if error.path else error.message
                problems.append(SchemaProblem(manifest, error.path, message, "crd-schema"))
        else:
            builtin.append(manifest)
    problems += validate_builtin(builtin, kubernetes_version)
    return problems
