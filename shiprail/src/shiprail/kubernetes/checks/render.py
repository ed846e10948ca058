"""``helm lint --strict`` and ``helm template`` per environment: a chart or values file that
does not render is a high finding at the values file's line."""

from __future__ import annotations

from shiprail.errors import ConfigError
from shiprail.findings import Finding, Rule, Severity
from shiprail.kubernetes.checks.interface import TOOL, Check, CheckContext, Suppressed

RULE = Rule("k8s-render", "Helm renders the chart", "helm lint --strict and helm template")


class RenderCheck(Check):
    name = "render"
    tools = ("helm",)

    def run(self, context: CheckContext) -> list[Finding | Suppressed]:
        values = {e.name: e.values for e in context.config.environments}
        out: list[Finding | Suppressed] = []
        for env, result in context.rendered.items():
            if isinstance(result, ConfigError):
                out.append(
                    Finding(
                        tool=TOOL,
                        rule=RULE,
                        severity=Severity.high,
                        message=_without_location(result),
                        path=result.path or values[env],
                        start_line=result.line or 1,
                        snippet=f"{env} helm {result.message}",
                        properties={"environment": env},
                    )
                )
        return out


def _without_location(exc: ConfigError) -> str:
    """The error's text without its "path:line: " prefix (the finding carries both)."""
    prefix = f"{exc.path}:{exc.line}: " if exc.path and exc.line else f"{exc.path}: "
    return exc.message.removeprefix(prefix)
