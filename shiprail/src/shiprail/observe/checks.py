"""Checks of the committed monitoring files with the real tools and the published schemas.

``promtool`` and ``amtool`` are the authority (they are what runs in production); the
SchemaStore JSON schemas are a second, independent floor that also catches keys the tools
silently ignore. Schemas are read from the data cache ``scripts/fetch-data.sh`` fills
(``.cache/data/schemas``, or ``SHIPRAIL_SCHEMAS_DIR``), never from the repository.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from shiprail._subprocess import run
from shiprail.errors import ToolMissing
from shiprail.settings import get_settings

#: Which schema validates which kind of file.
SCHEMAS = {
    "prometheus": "prometheus.json",
    "rules": "prometheus.rules.json",
    "rules-test": "prometheus.rules.test.json",
    "alertmanager": "prometheus-alertmanager.json",
}
TOOL_TIMEOUT_SECONDS = 120.0


def schemas_dir(root: Path) -> Path:
    if directory := get_settings().schemas_dir:
        return directory
    return root / ".cache" / "data" / "schemas"


def schema_problems(document: Path, kind: str, directory: Path) -> list[str]:
    """Every schema violation of ``document`` (YAML) as ``path: message`` lines."""
    from jsonschema import Draft7Validator

    schema_file = directory / SCHEMAS[kind]
    if not schema_file.is_file():
        raise ToolMissing(f"schema {SCHEMAS[kind]}", "scripts/fetch-data.sh schemas")
    validator = Draft7Validator(json.loads(schema_file.read_text()))
    data: Any = yaml.safe_load(document.read_text())
    return [
        f"{document.name}: {'/'.join(str(p) for p in error.absolute_path) or '(top)'}: "
        f"{error.message}"
        for error in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    ]


@dataclass(frozen=True)
class ToolCheck:
    command: tuple[str, ...]
    ok: bool
    output: str


def _run(args: list[str], cwd: Path | None = None) -> ToolCheck:
    result = run(
        args,
        cwd=cwd,
        timeout=TOOL_TIMEOUT_SECONDS,
        ok_codes=None,
        install_hint="scripts/install-tools.sh prometheus alertmanager",
    )
    return ToolCheck(tuple(args), result.returncode == 0, (result.stdout + result.stderr).strip())


def promtool_check_rules(files: list[Path]) -> ToolCheck:
    return _run(["promtool", "check", "rules", *map(str, files)])


def promtool_test_rules(files: list[Path]) -> ToolCheck:
    return _run(["promtool", "test", "rules", *map(str, files)])


def promtool_check_config(config: Path) -> ToolCheck:
    return _run(["promtool", "check", "config", "--syntax-only", str(config)])


def amtool_check_config(config: Path) -> ToolCheck:
    return _run(["amtool", "check-config", str(config)])


def amtool_route(config: Path, labels: dict[str, str], receivers: list[str]) -> ToolCheck:
    """``amtool config routes test``: do alerts with ``labels`` reach exactly ``receivers``?"""
    return _run(
        [
            "amtool",
            "config",
            "routes",
            "test",
            f"--config.file={config}",
            f"--verify.receivers={','.join(receivers)}",
            *(f"{key}={value}" for key, value in sorted(labels.items())),
        ]
    )


def amtool_render(templates: Path, text: str) -> ToolCheck:
    """Render ``text`` with the notification templates and amtool's example alert data."""
    return _run(
        ["amtool", "template", "render", f"--template.glob={templates}", f"--template.text={text}"]
    )
