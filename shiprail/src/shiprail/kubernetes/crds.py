"""Validate custom resources (Argo CD, Flagger, Gateway API, Gatekeeper) against the
``openAPIV3Schema`` of their upstream CRDs, offline.

A cluster prunes or rejects fields its structural schema does not declare, so objects are
closed here (``additionalProperties: false``) unless the schema preserves unknown fields;
OpenAPI's ``nullable`` becomes a JSON-schema ``null`` type. CEL rules
(``x-kubernetes-validations``) need an API server and are not evaluated.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft7Validator

from shiprail.errors import ToolMissing

#: libyaml's safe loader when available: the CRDs are tens of thousands of lines.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
FETCH_HINT = "scripts/fetch-data.sh crds   (part of make tools)"

#: What every object may carry in ``metadata`` (ObjectMeta, the fields people write).
_OBJECT_META: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "maxLength": 253},
        "generateName": {"type": "string"},
        "namespace": {"type": "string", "maxLength": 63},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
        "finalizers": {"type": "array", "items": {"type": "string"}},
    },
}


@dataclass(frozen=True)
class SchemaError:
    path: str  # dotted path inside the object ("spec.analysis.stepWeight"), "" for the root
    message: str


def _close(schema: Any) -> Any:
    """Copy of an OpenAPI v3 schema with objects closed and ``nullable`` translated."""
    if isinstance(schema, list):
        return [_close(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: _close(value) for key, value in schema.items()}
    if (
        "properties" in out
        and "additionalProperties" not in out
        and not out.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    if out.get("nullable") is True and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    return out


class CrdIndex:
    """The served versions of every CRD in a directory, by (group, version, kind)."""

    def __init__(self, schemas: dict[tuple[str, str, str], dict[str, Any]], source: str):
        self._schemas = schemas
        self._validators: dict[tuple[str, str, str], Draft7Validator] = {}
        self.source = source

    @classmethod
    def load(cls, directory: Path) -> CrdIndex:
        if not directory.is_dir() or not any(directory.glob("*.yaml")):
            raise ToolMissing(f"CRD schemas in {directory}", FETCH_HINT)
        schemas: dict[tuple[str, str, str], dict[str, Any]] = {}
        for path in sorted(directory.glob("*.yaml")):
            text = path.read_text(encoding="utf-8")
            for doc in yaml.load_all(text, Loader=_LOADER):
                if not isinstance(doc, dict) or doc.get("kind") != "CustomResourceDefinition":
                    continue
                spec = doc.get("spec", {})
                group, kind = spec.get("group", ""), spec.get("names", {}).get("kind", "")
                for version in spec.get("versions", []):
                    schema = (version.get("schema") or {}).get("openAPIV3Schema")
                    if version.get("served", True) and schema:
                        schemas[(group, version["name"], kind)] = schema
        return cls(schemas, str(directory))

    def kinds(self) -> list[str]:
        return sorted({f"{g}/{v} {k}" for g, v, k in self._schemas})

    def knows(self, api_version: str, kind: str) -> bool:
        return self._key(api_version, kind) in self._schemas

    @staticmethod
    def _key(api_version: str, kind: str) -> tuple[str, str, str]:
        group, _, version = api_version.rpartition("/")
        return (group, version, kind)

    def validator(self, api_version: str, kind: str) -> Draft7Validator:
        key = self._key(api_version, kind)
        if key not in self._validators:
            schema = _close(copy.deepcopy(self._schemas[key]))
            properties = schema.setdefault("properties", {})
            properties["metadata"] = _OBJECT_META
            properties.setdefault("apiVersion", {"type": "string"})
            properties.setdefault("kind", {"type": "string"})
            properties.pop("status", None)
            schema["additionalProperties"] = False
            self._validators[key] = Draft7Validator(schema)
        return self._validators[key]

    def validate(self, obj: dict[str, Any]) -> list[SchemaError]:
        """Every schema error of ``obj``, sorted by path (empty when valid)."""
        validator = self.validator(str(obj.get("apiVersion", "")), str(obj.get("kind", "")))
        errors = []
        for error in validator.iter_errors(obj):
            path = ".".join(str(part) for part in error.absolute_path)
            errors.append(SchemaError(path, error.message))
        return sorted(errors, key=lambda e: (e.path, e.message))


def constraint_schemas(
    templates: list[dict[str, Any]],
) -> dict[tuple[str, str, str], dict[str, Any]]:
    """Schemas for Gatekeeper Constraints, which have no CRD until Gatekeeper creates one from
    their ConstraintTemplate: ``spec.parameters`` follows the template's parameter schema."""
    out: dict[tuple[str, str, str], dict[str, Any]] = {}
    for doc in templates:
        if doc.get("kind") != "ConstraintTemplate":
            continue
        crd_spec = doc.get("spec", {}).get("crd", {}).get("spec", {})
        kind = crd_spec.get("names", {}).get("kind")
        if not kind:
            continue
        params = (crd_spec.get("validation") or {}).get("openAPIV3Schema") or {
            "type": "object",
            "properties": {},
        }
        schema = {
            "type": "object",
            "required": ["spec"],
            "properties": {
                "spec": {
                    "type": "object",
                    "properties": {
                        "enforcementAction": {"type": "string", "enum": ["deny", "dryrun", "warn"]},
                        "match": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                        "parameters": params,
                    },
                }
            },
        }
        for version in ("v1", "v1beta1", "v1alpha1"):
            out[("constraints.gatekeeper.sh", version, kind)] = schema
    return out


def with_extra(index: CrdIndex, extra: dict[tuple[str, str, str], dict[str, Any]]) -> CrdIndex:
    """A copy of ``index`` that also knows ``extra`` schemas."""
    return CrdIndex({**index._schemas, **extra}, index.source)
