"""Render the chart with Helm for one environment: ``helm lint --strict`` then
``helm template``, with the same arguments a deploy uses, so what is checked is what ships."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from shiprail import _subprocess
from shiprail.errors import ConfigError, ToolCrashed
from shiprail.kubernetes.manifests import Manifest, split_documents
from shiprail.kubernetes.settings import KubernetesConfig, KubernetesEnvironment

HELM_TIMEOUT_SECONDS = 120.0
_SOURCE = re.compile(r"^# Source: (\S+)\s*$")
_SCHEMA_AT = re.compile(r"at '(/[^']*)'")
_SCHEMA_ERROR = re.compile(r"- at '(/?[^']*)': (.*?)(?= \[ERROR\]| - at '|$)")
_TEMPLATE_FAIL = re.compile(r"execution error at \([^)]*\): (.*?)(?= \[ERROR\]| Use --debug|$)")


@dataclass(frozen=True)
class RenderedEnvironment:
    name: str
    values: str
    manifests: tuple[Manifest, ...]
    text: str


def helm_arguments(config: KubernetesConfig, env: KubernetesEnvironment, root: Path) -> list[str]:
    """The values arguments shared by lint, template and the deploy (``helm upgrade``)."""
    values = root / env.values
    if not values.is_file():
        raise ConfigError(
            f"values file of environment '{env.name}' not found",
            path=env.values,
            hint="create it or fix kubernetes.environments in shiprail.yaml",
        )
    args = ["-f", str(values), "--kube-version", config.kubernetes_version]
    if config.prometheus_rules and (root / config.prometheus_rules).is_file():
        args += ["--set-file", f"metrics.prometheusRule.rules={root / config.prometheus_rules}"]
    return args


def _values_line(root: Path, values: str, pointer: str) -> int | None:
    """Line of a JSON pointer (``/image/tag``) in a values file, when the key is there."""
    try:
        node = yaml.compose((root / values).read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except (OSError, yaml.YAMLError):
        return None
    line = None
    for part in [p for p in pointer.split("/") if p]:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if k.value == part), None)
            if match is None:
                break
            line, node = match[0].start_mark.line + 1, match[1]
        elif isinstance(node, yaml.SequenceNode) and part.isdigit() and int(part) < len(node.value):
            node = node.value[int(part)]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _helm_error(output: str, env: KubernetesEnvironment, root: Path, action: str) -> ConfigError:
    """A readable one-paragraph error naming the values file (and line) from Helm's output."""
    lines = [
        line.strip()
        for line in output.splitlines()
        if line.strip() and not line.startswith("Use --debug") and line.strip() != "workorders:"
    ]
    lines = [
        line
        for line in lines
        if not line.startswith(("==> Linting", "[INFO]", "1 chart(s) linted", "Error: 1 chart"))
    ]
    message = " ".join(lines).replace("Error: ", "") or f"helm {action} failed"
    message = re.sub(r"\s+", " ", message)
    schema_errors = list(dict.fromkeys(_SCHEMA_ERROR.findall(message)))
    if schema_errors:
        message = "values do not match the chart's values.schema.json: " + "; ".join(
            f"{where or '(top level)'}: {why.strip()}" for where, why in schema_errors
        )
    else:
        failures = list(dict.fromkeys(_TEMPLATE_FAIL.findall(message)))
        if failures:
            message = "; ".join(f.strip() for f in failures)
    pointer = _SCHEMA_AT.search(message) or re.search(r"(/[A-Za-z0-9_/.-]+):", message)
    line = _values_line(root, env.values, pointer.group(1)) if pointer else None
    return ConfigError(
        f"environment '{env.name}': helm {action}: {message}",
        path=env.values,
        line=line,
        hint="fix the values file; helm/chart/values.schema.json lists what is allowed",
    )


def lint(config: KubernetesConfig, env: KubernetesEnvironment, root: Path) -> None:
    """``helm lint --strict``: template errors, schema violations and chart problems."""
    args = [
        "helm",
        "lint",
        "--strict",
        str(root / config.chart),
        *helm_arguments(config, env, root),
    ]
    result = _subprocess.run(args, cwd=root, timeout=HELM_TIMEOUT_SECONDS, ok_codes=None)
    if result.returncode != 0:
        raise _helm_error(result.stdout + "\n" + result.stderr, env, root, "lint")


def template(config: KubernetesConfig, env: KubernetesEnvironment, root: Path) -> str:
    args = [
        "helm",
        "template",
        config.release,
        str(root / config.chart),
        "--namespace",
        config.release_namespace,
        *helm_arguments(config, env, root),
    ]
    result = _subprocess.run(args, cwd=root, timeout=HELM_TIMEOUT_SECONDS, ok_codes=None)
    if result.returncode != 0:
        raise _helm_error(result.stderr or result.stdout, env, root, "template")
    return result.stdout


def parse_rendered(text: str, env: str, chart_dir: str) -> list[Manifest]:
    """Split ``helm template`` output into objects, each mapped back to its template file
    through the ``# Source:`` comment Helm writes above every document."""
    manifests = []
    chunks: list[list[str]] = [[]]
    for raw in text.splitlines():
        if raw.rstrip() == "---":
            chunks.append([])
        else:
            chunks[-1].append(raw)
    for chunk in chunks:
        body = "\n".join(chunk)
        source = chart_dir
        for raw in chunk:
            match = _SOURCE.match(raw)
            if match:
                source = f"{chart_dir}/{match.group(1).split('/', 1)[-1]}"
                break
        for _line, doc in split_documents(body, source):
            manifests.append(Manifest(env, source, 1, doc))
    if not manifests:
        raise ToolCrashed(f"helm template rendered no objects for environment '{env}'")
    return manifests


def render(config: KubernetesConfig, env: KubernetesEnvironment, root: Path) -> RenderedEnvironment:
    """Lint and render one environment; invalid values raise :class:`ConfigError`."""
    lint(config, env, root)
    text = template(config, env, root)
    manifests = parse_rendered(text, env.name, config.chart)
    return RenderedEnvironment(env.name, env.values, tuple(manifests), text)
