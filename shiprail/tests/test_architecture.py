"""The package's shape as tests: the import layers, and the size limits of modules and functions.

Layers (docs/architecture.md draws them): a module imports only from its own layer or below.
A new top-level module or package must be given a layer here, so nothing lands unplaced.
Each package's ``settings.py`` (its section of the ``shiprail.yaml`` schema) belongs to the
config layer although it sits beside the package it configures: ``config`` composes them,
so they may import nothing above the config layer.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import shiprail

SRC = Path(shiprail.__file__).resolve().parent

#: Top to bottom. The first element of a module's dotted name (below ``shiprail``) picks it.
LAYERS: list[set[str]] = [
    {"cli", "console"},
    {"deploy", "scan", "image", "observe", "kubernetes"},
    {"config", "strict", "findings", "output", "checkov"},
    {"errors", "_subprocess", "_docker", "paths", "tools", "settings", "naming", "__init__"},
]

#: Pairs in one layer that must stay independent (first must not import second).
INDEPENDENT = [("kubernetes", "scan")]

MAX_MODULE_LINES = 450
MAX_FUNCTION_LINES = 80
#: A longer function says why in its docstring, with these words.
LONG_REASON = "Long because"


def _layer(dotted: str) -> int:
    """The layer of a module given as its dotted name below ``shiprail``."""
    parts = dotted.split(".")
    if len(parts) > 1 and parts[-1] == "settings":
        return _layer("config")
    for index, names in enumerate(LAYERS):
        if parts[0] in names:
            return index
    raise AssertionError(f"shiprail.{parts[0]} has no layer: add it to LAYERS and the docs")


def _modules() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if "migrations" not in p.parts)


def _dotted(path: Path) -> str:
    return ".".join(path.relative_to(SRC).with_suffix("").parts)


def _imports(path: Path) -> set[str]:
    """Dotted names below ``shiprail`` a module imports (absolute and relative alike)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = path.relative_to(SRC.parent).with_suffix("").parts[:-1]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                names = [".".join((*base, node.module or ""))]
            else:
                names = [node.module or ""]
            if names[0] == "shiprail":
                names = [
                    "shiprail.__init__" if alias.name == "__version__" else f"shiprail.{alias.name}"
                    for alias in node.names
                ]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "shiprail" and len(parts) > 1:
                found.add(".".join(parts[1:]))
    return found


def test_every_module_has_a_layer() -> None:
    for path in _modules():
        _layer(_dotted(path))


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_imports_respect_the_layers(path: Path) -> None:
    own = _dotted(path)
    for imported in _imports(path):
        assert _layer(imported) >= _layer(own), (
            f"{path.relative_to(SRC)} imports shiprail.{imported}, "
            "a higher layer: move the shared code down instead"
        )
        pair = (own.split(".")[0], imported.split(".")[0])
        assert pair not in INDEPENDENT, f"{path.relative_to(SRC)}: {own} must not import {imported}"


def test_the_layer_check_catches_an_upward_import() -> None:
    """The check itself can fail: an errors module importing the CLI is caught."""
    probe = SRC / "errors_probe.py"
    assert not probe.exists()
    try:
        probe.write_text("from shiprail.cli import app\nfrom .deploy import engine\n")
        imported = _imports(probe)
    finally:
        probe.unlink()
    assert imported == {"cli", "deploy"}
    assert all(_layer(name) < _layer("errors") for name in imported)
    assert _layer("deploy.settings") == _layer("config")


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_module_and_function_sizes(path: Path) -> None:
    text = path.read_text()
    lines = len(text.splitlines())
    module_doc = ast.get_docstring(ast.parse(text)) or ""
    assert lines <= MAX_MODULE_LINES or LONG_REASON in module_doc, (
        f"{path.relative_to(SRC)} has {lines} lines (limit {MAX_MODULE_LINES}): split it, "
        f"or say '{LONG_REASON} ...' in its docstring"
    )
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            doc = ast.get_docstring(node) or ""
            assert length <= MAX_FUNCTION_LINES or LONG_REASON in doc, (
                f"{path.relative_to(SRC)}:{node.lineno} {node.name}() has {length} lines "
                f"(limit {MAX_FUNCTION_LINES}): split it, or say '{LONG_REASON} ...' in its "
                "docstring"
            )
