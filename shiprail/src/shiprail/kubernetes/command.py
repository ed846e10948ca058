"""The bodies of the ``shiprail k8s`` commands: each returns normally on success and raises
an exception of :mod:`shiprail.errors` when it refuses (the CLI maps it to an exit code)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from shiprail.errors import GateFailed
from shiprail.kubernetes import render
from shiprail.kubernetes.check import CheckReport, run_check
from shiprail.kubernetes.settings import KubernetesConfig
from shiprail.output import emit, say


@dataclass(frozen=True)
class Context:
    root: Path
    config: KubernetesConfig


def load(config_path: Path | None, crds: Path | None, fail_on: str | None) -> Context:
    """shiprail.yaml's kubernetes section with command-line overrides applied."""
    from shiprail.config import load_config
    from shiprail.paths import repo_root

    root = config_path.resolve().parent if config_path else repo_root()
    k8s = load_config(config_path).kubernetes
    updates: dict[str, object] = {}
    if crds is not None:
        updates["crds"] = str(crds)
    if fail_on is not None:
        updates["fail_on"] = fail_on
    return Context(root, k8s.model_copy(update=updates) if updates else k8s)


def _echo(text: str) -> None:
    say(text, prefix="")


def _short(reason: str, width: int = 70) -> str:
    text = " ".join(reason.split())
    return text if len(text) <= width else text[: width - 3].rstrip() + "..."


def print_report(report: CheckReport) -> None:
    """Human summary on stderr: one line per finding, then the verdict."""
    for finding in report.findings:
        mark = "BLOCK" if finding.severity.rank >= report.fail_on.rank else "note "
        _echo(
            f"{mark} {finding.severity.value:<8} {finding.rule.id:<28} "
            f"{finding.path}:{finding.start_line}  {finding.message}"
        )
    for item in report.suppressed:
        _echo(f"skip  {item.finding.rule.id:<37} {item.finding.message}  ({_short(item.reason)})")
    counts = ", ".join(f"{env}: {n} objects" for env, n in report.objects.items())
    _echo(f"checked {counts}; CRD schemas: {report.data_sources.get('crds', '-').splitlines()[0]}")
    blocking = len(report.blocking)
    verdict = "FAILED" if blocking else "passed"
    _echo(
        f"kubernetes check {verdict}: {blocking} blocking, "
        f"{len(report.findings) - blocking} below {report.fail_on.value}, "
        f"{len(report.suppressed)} skipped with a reason"
    )


def check(
    ctx: Context,
    environments: Sequence[str],
    *,
    as_json: bool,
    output: Path | None,
    checkov: bool,
) -> CheckReport:
    report = run_check(ctx.config, ctx.root, list(environments) or None, use_checkov=checkov)
    payload = json.dumps(report.to_dict(), indent=2)
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(payload + "\n", encoding="utf-8")
    if as_json:
        emit(payload)
    print_report(report)
    if report.blocking:
        raise GateFailed(
            f"{len(report.blocking)} blocking Kubernetes finding(s) "
            f"at or above {report.fail_on.value}"
        )
    return report


def render_environment(ctx: Context, environment: str) -> str:
    env = ctx.config.environment(environment)
    return render.render(ctx.config, env, ctx.root).text


def generated_bundle(
    ctx: Context, generator: ModuleType, what: str, *, write: bool, check_only: bool
) -> None:
    """Write, check (stale files raise :class:`GateFailed`) or print what ``generator``
    (:mod:`~shiprail.kubernetes.gatekeeper` or :mod:`~shiprail.kubernetes.admission`) makes
    from the rules; ``what`` names it in messages."""
    if write:
        for path in generator.write(ctx.config, ctx.root):
            _echo(f"wrote {path}")
        return
    stale = generator.stale(ctx.config, ctx.root)
    if check_only:
        if stale:
            name = generator.__name__.rsplit(".", 1)[-1]
            raise GateFailed(
                f"stale {what}: {', '.join(stale)}", hint=f"run: shiprail k8s {name} --write"
            )
        _echo(f"{what}: up to date")
        return
    for text in generator.bundle(ctx.config, ctx.root).values():
        emit(text)
