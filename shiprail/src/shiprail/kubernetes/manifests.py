"""Rendered or committed Kubernetes objects, with where each came from (file and line)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from shiprail.errors import ConfigError


@dataclass(frozen=True)
class Manifest:
    """One Kubernetes object: its environment ("gitops" for committed manifests), the
    repo-relative file it comes from (a chart template or a manifest file), the 1-based line
    where its document starts in that file, and the object itself."""

    environment: str
    source: str
    line: int
    obj: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.obj.get("kind", ""))

    @property
    def api_version(self) -> str:
        return str(self.obj.get("apiVersion", ""))

    @property
    def name(self) -> str:
        metadata = self.obj.get("metadata") or {}
        return str(metadata.get("name", "")) if isinstance(metadata, dict) else ""

    @property
    def display(self) -> str:
        return f"{self.kind}/{self.name}"


def split_documents(text: str, path: str) -> list[tuple[int, dict[str, Any]]]:
    """The non-empty YAML documents of ``text`` with the 1-based line each starts on."""
    try:
        nodes = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
        docs = list(yaml.safe_load_all(text))
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise ConfigError(f"invalid YAML: {exc.problem}", path=path, line=line) from None
    out = []
    for node, doc in zip(nodes, docs, strict=True):
        if doc is None:
            continue
        if not isinstance(doc, dict):
            raise ConfigError(
                "a Kubernetes manifest must be a mapping", path=path, line=node.start_mark.line + 1
            )
        out.append((node.start_mark.line + 1, doc))
    return out


def load_manifest_files(root: Path, files: list[Path], environment: str) -> list[Manifest]:
    """Every object in the given YAML files (repo-relative paths)."""
    manifests = []
    for rel in sorted(files):
        text = (root / rel).read_text(encoding="utf-8")
        for line, doc in split_documents(text, rel.as_posix()):
            manifests.append(Manifest(environment, rel.as_posix(), line, doc))
    return manifests


def line_of_key(root: Path, source: str, key: str, start: int = 1) -> int:
    """Best-effort line of ``key:`` in ``source`` at or after ``start`` (else ``start``)."""
    try:
        lines = (root / source).read_text(encoding="utf-8").splitlines()
    except OSError:
        return start
    needle = f"{key}:"
    for number in range(max(start, 1), len(lines) + 1):
        stripped = lines[number - 1].strip().removeprefix("- ")
        if stripped.startswith(needle):
            return number
    return start
