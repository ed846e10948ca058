"""``shiprail.yaml``: the platform configuration, validated with pydantic v2.

Each subsystem owns its section model (``scan``, ``environments``, ...); this module loads the
file and turns validation errors into :class:`ConfigError` with the file and line of the
offending key, so users fix the right place.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field, ValidationError

from shiprail.console.settings import ConsoleConfig
from shiprail.deploy.settings import Environments, default_environments
from shiprail.errors import ConfigError
from shiprail.image.settings import ImageScanConfig, SigningConfig
from shiprail.kubernetes.settings import KubernetesConfig
from shiprail.naming import DEFAULT_SERVICE, SERVICE_NAME, SERVICE_NAME_HINT
from shiprail.observe.settings import DoraTargets, MonitoringConfig
from shiprail.scan.settings import ScanConfig
from shiprail.strict import StrictModel

CONFIG_FILE = "shiprail.yaml"


class ServiceConfig(StrictModel):
    name: str = Field(
        default=DEFAULT_SERVICE,
        pattern=SERVICE_NAME.pattern,
        description="Names every container, volume, network and edge site: " + SERVICE_NAME_HINT,
    )
    path: str = Field(default="app", description="Directory of the service's Python project")
    dockerfile: str = "app/Dockerfile"
    image: str = Field(default="workorders", description="Image repository name")


class ShiprailConfig(StrictModel):
    version: int = 1
    service: ServiceConfig = ServiceConfig()
    # Subsystem sections are added below, one line each (scan, environments, monitoring, ...).
    environments: Environments = Field(default_factory=default_environments)
    monitoring: MonitoringConfig = MonitoringConfig()
    dora: DoraTargets = DoraTargets()
    scan: ScanConfig = ScanConfig()
    kubernetes: KubernetesConfig = KubernetesConfig()
    image_scan: ImageScanConfig = ImageScanConfig()
    signing: SigningConfig = SigningConfig()
    console: ConsoleConfig = ConsoleConfig()


def _line_of(root: yaml.Node | None, location: tuple[int | str, ...]) -> int | None:
    """1-based line of the deepest YAML node on ``location`` that exists."""
    node = root
    line = node.start_mark.line + 1 if node is not None else None
    for part in location:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if k.value == part), None)
            key = next((k for k, _ in node.value if k.value == part), None)
            if match is None:
                break
            line = (key or match).start_mark.line + 1
            node = match
        elif (
            isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value)
        ):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


class _Loader(yaml.SafeLoader):
    """The safe loader, with values YAML accepts but Python cannot build (``2025-02-30``, an
    integer of thousands of digits) reported as YAML errors at their node."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except ValueError as exc:
            problem = str(exc).split(";")[0]
            raise yaml.constructor.ConstructorError(None, None, problem, node.start_mark) from None


def single_line(text: str) -> str:
    """``text`` with line breaks and other control characters escaped, so an error about a
    key such as ``"a\\nb"`` stays on the one line the CLI prints."""
    return "".join(
        ch.encode("unicode_escape").decode("ascii")
        if unicodedata.category(ch) in ("Cc", "Zl", "Zp")
        else ch
        for ch in text
    )


def read_text(path: Path, display: str) -> str:
    """A configuration file's text; unreadable or non-UTF-8 files are a :class:`ConfigError`."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read the file: {exc.strerror}", path=display) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"not UTF-8 text (byte 0x{raw[exc.start]:02x})", path=display, line=line
        ) from None


def parse_yaml(text: str, path: str) -> tuple[Any, yaml.Node | None]:
    """Parse YAML safely, reporting syntax errors with their line."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        problem = single_line(str(exc.problem or exc.context or "syntax error"))
        raise ConfigError(f"invalid YAML: {problem}", path=path, line=line) from None
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        raise ConfigError(
            f"invalid YAML: character #x{exc.character:04x} is not allowed", path=path, line=line
        ) from None
    except RecursionError:
        raise ConfigError("invalid YAML: nested too deeply", path=path) from None
    return data, node


def validate(model: type[BaseModel], data: Any, node: yaml.Node | None, path: str) -> Any:
    """Validate ``data`` against ``model``; the first error becomes a ConfigError with a line."""
    try:
        return model.model_validate(data if data is not None else {})
    except ValidationError as exc:
        errors = exc.errors()
        first = errors[0]
        location = tuple(first["loc"])
        dotted = single_line(".".join(str(part) for part in location)) or "(top level)"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        message = single_line(str(first["msg"]).removeprefix("Value error, "))
        if first["type"] == "extra_forbidden":
            message = "unknown key (check the spelling)"
        raise ConfigError(
            f"{dotted}: {message}{more}", path=path, line=_line_of(node, location)
        ) from None


def load_config(path: Path | None = None) -> ShiprailConfig:
    """Load shiprail.yaml; a missing file means the defaults (the embedded default)."""
    from shiprail.paths import repo_root

    path = path or repo_root() / CONFIG_FILE
    if not path.exists():
        return ShiprailConfig()
    data, node = parse_yaml(read_text(path, path.name), path.name)
    config: ShiprailConfig = validate(ShiprailConfig, data, node, path.name)
    return config
