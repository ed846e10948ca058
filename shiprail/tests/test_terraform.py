"""Conventions of every Terraform directory under ``terraform/`` (modules, roots, bootstrap).

``make terraform-check`` runs fmt, tflint and ``terraform test``; these tests hold the layout
the modules promise: the four standard files, a type and a description on every variable, and
every provider pinned in versions.tf. Read with a small HCL block reader (no HCL library).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TERRAFORM = REPO / "terraform"
STANDARD_FILES = ("main.tf", "variables.tf", "outputs.tf", "versions.tf")

_HEREDOC = re.compile(r"<<-?([A-Za-z_][A-Za-z0-9_]*)")
_BLOCK = re.compile(r'^(variable|output)\s+"([^"]+)"\s*\{', re.MULTILINE)
_ATTRIBUTE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_-]*)\s*=")


def terraform_dirs() -> list[Path]:
    return sorted(
        {p.parent for p in TERRAFORM.rglob("*.tf") if ".terraform" not in p.parts},
    )


def _ids(dirs: list[Path]) -> list[str]:
    return [d.relative_to(REPO).as_posix() for d in dirs]


def mask(text: str) -> str:
    """``text`` with comments blanked, and braces inside strings and heredocs blanked, so that
    counting braces follows the blocks. Newlines and everything else stay where they were."""
    out: list[str] = []
    i, n = 0, len(text)
    in_string = False
    heredoc: str | None = None
    while i < n:
        if heredoc is not None:  # whole lines until the closing marker
            end = text.find("\n", i)
            end = n if end == -1 else end + 1
            line = text[i:end]
            if line.strip() == heredoc:
                heredoc = None
            out.append(line.replace("{", " ").replace("}", " "))
            i = end
            continue
        char = text[i]
        if in_string:
            if char == "\\" and i + 1 < n:
                out.append("  ")
                i += 2
                continue
            in_string = char != '"'
            out.append(" " if char in "{}" else char)
            i += 1
            continue
        if char == '"':
            in_string = True
        elif char == "#" or text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end == -1 else end
            out.append(" " * (end - i))
            i = end
            continue
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end == -1 else end + 2
            out.append(re.sub(r"[^\n]", " ", text[i:end]))
            i = end
            continue
        elif match := _HEREDOC.match(text, i):
            heredoc = match.group(1)
            end = text.find("\n", i)
            end = n if end == -1 else end + 1
            out.append(text[i:end])
            i = end
            continue
        out.append(char)
        i += 1
    return "".join(out)


def body_after(masked: str, start: int) -> str:
    """The text of the block whose ``{`` ends just before ``start``, without its braces."""
    depth = 1
    for index in range(start, len(masked)):
        if masked[index] == "{":
            depth += 1
        elif masked[index] == "}":
            depth -= 1
            if depth == 0:
                return masked[start:index]
    raise AssertionError("unbalanced braces")


def top_attributes(body: str) -> dict[str, str]:
    """Attributes set directly in a block body (not in its nested blocks), with their line."""
    found: dict[str, str] = {}
    depth = 0
    for line in body.splitlines():
        if depth == 0 and (match := _ATTRIBUTE.match(line)):
            found[match.group(1)] = line.strip()
        depth += line.count("{") - line.count("}")
    return found


def blocks(path: Path, kind: str) -> dict[str, str]:
    masked = mask(path.read_text())
    return {
        m.group(2): body_after(masked, m.end())
        for m in _BLOCK.finditer(masked)
        if m.group(1) == kind
    }


def required_providers(versions_tf: Path) -> dict[str, dict[str, str]]:
    """The entries of ``required_providers`` and their attributes (source, version)."""
    masked = mask(versions_tf.read_text())
    match = re.search(r"\brequired_providers\s*\{", masked)
    if match is None:
        return {}
    body = body_after(masked, match.end())
    providers = {}
    for entry in re.finditer(r"^\s*([A-Za-z0-9_-]+)\s*=\s*\{", body, re.MULTILINE):
        entry_body = body_after(body, entry.end())
        providers[entry.group(1)] = {
            key: value.split("=", 1)[1].strip().strip('"')
            for key, value in top_attributes(entry_body.replace(",", "\n")).items()
        }
    return providers


def pinned(constraint: str) -> bool:
    """A constraint with an upper bound: ``~> 5.80``, ``>= 5.80, < 6.0`` or an exact version."""
    parts = [p.strip() for p in constraint.split(",") if p.strip()]
    return bool(parts) and any(
        p.startswith(("~>", "<", "=")) or re.fullmatch(r"\d+(\.\d+)*", p) for p in parts
    )


# -- the reader itself ----------------------------------------------------------------------


def test_the_block_reader_sees_nested_blocks_strings_and_heredocs(tmp_path):
    path = tmp_path / "variables.tf"
    path.write_text(
        '# variable "commented" {\n'
        'variable "a" {\n'
        '  description = "braces { in a string ${var.x} and \\" a quote"\n'
        "  type = map(object({\n"
        "    description = string # nested: not the variable's\n"
        "  }))\n"
        "  validation {\n"
        '    condition     = alltrue([for k in keys(var.a) : k != "}"])\n'
        '    error_message = "no"\n'
        "  }\n"
        "}\n"
        'variable "b" {\n'
        "  description = <<-EOT\n"
        "    a heredoc with a } brace\n"
        "  EOT\n"
        "  default = {}\n"
        "}\n"
        '/* variable "c" { type = string } */\n'
    )
    found = blocks(path, "variable")
    assert set(found) == {"a", "b"}
    assert set(top_attributes(found["a"])) == {"description", "type"}
    assert set(top_attributes(found["b"])) == {"description", "default"}


def test_the_provider_reader_and_the_pin_rule(tmp_path):
    path = tmp_path / "versions.tf"
    path.write_text(
        "terraform {\n"
        '  required_version = ">= 1.11"\n'
        "  required_providers {\n"
        '    aws = {\n      source  = "hashicorp/aws"\n      version = "~> 5.80"\n    }\n'
        '    tls = { source = "hashicorp/tls", version = ">= 4.0" }\n'
        '    null = {\n      source = "hashicorp/null"\n    }\n'
        "  }\n"
        "}\n"
    )
    providers = required_providers(path)
    assert providers["aws"] == {"source": "hashicorp/aws", "version": "~> 5.80"}
    assert providers["tls"]["version"] == ">= 4.0"
    assert "version" not in providers["null"]
    assert pinned("~> 5.80") and pinned(">= 5.80, < 6.0") and pinned("1.2.3")
    assert not pinned(">= 4.0") and not pinned("")


# -- the conventions ------------------------------------------------------------------------


def test_there_are_terraform_directories_to_check():
    ids = _ids(terraform_dirs())
    for expected in (
        "terraform/aws",
        "terraform/bootstrap/aws",
        "terraform/modules/aws/eks",
        "terraform/modules/aws/vpc",
        "terraform/modules/github/repository-settings",
    ):
        assert expected in ids


@pytest.mark.parametrize("directory", terraform_dirs(), ids=_ids(terraform_dirs()))
def test_every_directory_has_the_standard_files(directory: Path):
    missing = [name for name in STANDARD_FILES if not (directory / name).is_file()]
    assert not missing, f"{directory.relative_to(REPO)} lacks {', '.join(missing)}"


@pytest.mark.parametrize("directory", terraform_dirs(), ids=_ids(terraform_dirs()))
def test_every_variable_has_a_type_and_a_description(directory: Path):
    problems = []
    for path in sorted(directory.glob("*.tf")):
        for name, body in blocks(path, "variable").items():
            attributes = top_attributes(body)
            problems += [
                f"{path.relative_to(REPO)}: variable {name} has no {key}"
                for key in ("type", "description")
                if key not in attributes
            ]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("directory", terraform_dirs(), ids=_ids(terraform_dirs()))
def test_every_provider_is_pinned_in_versions_tf(directory: Path):
    versions = directory / "versions.tf"
    assert re.search(r"^\s*required_version\s*=", mask(versions.read_text()), re.MULTILINE), (
        f"{versions.relative_to(REPO)} has no required_version"
    )
    for name, attributes in required_providers(versions).items():
        where = f"{versions.relative_to(REPO)}: provider {name}"
        assert "/" in attributes.get("source", ""), f"{where} has no source namespace/name"
        assert pinned(attributes.get("version", "")), f"{where} is not pinned: {attributes}"
    for path in sorted(directory.glob("*.tf")):
        if path.name != "versions.tf":
            assert not re.search(r"\brequired_(providers|version)\b", mask(path.read_text())), (
                f"{path.relative_to(REPO)}: versions and providers belong in versions.tf"
            )
