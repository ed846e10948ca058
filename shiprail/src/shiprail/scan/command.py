"""``shiprail scan``: option handling behind the thin CLI function (formats, outputs,
baselines), so the CLI module stays a parser."""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass
from pathlib import Path

from shiprail import output
from shiprail.errors import GateFailed, ToolError, UsageError
from shiprail.scan import baseline as baseline_mod
from shiprail.scan import files as files_mod
from shiprail.scan.report import FORMATS, default_name, render
from shiprail.scan.runner import ScanOutcome, baseline_entries, load_scan_config, run_scan
from shiprail.scan.settings import ScanSettings
from shiprail.settings import get_settings

#: Written when no --format is given (text goes to stderr anyway).
DEFAULT_FORMATS = ("sarif", "json", "junit", "markdown", "html")
_BY_SUFFIX = {
    ".sarif": "sarif",
    ".json": "json",
    ".xml": "junit",
    ".md": "markdown",
    ".html": "html",
    ".htm": "html",
    ".txt": "text",
}


@dataclass(frozen=True)
class ScanRequest:
    path: Path
    formats: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    #: None: ``reports/`` under the scanned PATH, where the file discovery always ignores it
    reports_dir: Path | None = None
    baseline: Path | None = None
    write_baseline: Path | None = None
    changed_since: str | None = None
    #: gitleaks also reads every commit (on top of ``scan.git_history`` in shiprail.yaml)
    git_history: bool = False
    only: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()
    offline: bool = False
    config: Path | None = None
    use_cache: bool = True
    jobs: int | None = None


def split_names(values: list[str] | None) -> tuple[str, ...]:
    """``--only a,b --only c`` -> ("a", "b", "c")."""
    out: list[str] = []
    for value in values or []:
        out.extend(part.strip() for part in value.replace(" ", ",").split(",") if part.strip())
    return tuple(out)


def plan_outputs(req: ScanRequest) -> list[tuple[str, str]]:
    """(format, destination) pairs; destination "-" is stdout."""
    return plan_report_outputs(req.formats, req.outputs, req.reports_dir or req.path / "reports")


def plan_report_outputs(
    chosen_formats: tuple[str, ...], outputs: tuple[str, ...], reports_dir: Path
) -> list[tuple[str, str]]:
    """(format, destination) pairs of any gate's reports (the source scan, the image scan):
    one ``--format`` goes to stdout, ``--output`` pairs with ``--format`` (or its suffix
    names it), and with neither every default format goes to ``reports_dir``."""
    for fmt in chosen_formats:
        if fmt not in FORMATS:
            raise UsageError(f"unknown format '{fmt}'", hint=f"choose from: {', '.join(FORMATS)}")
    if outputs:
        formats: list[str] = list(chosen_formats)
        if not formats:
            for out in outputs:
                suffix = Path(out).suffix.lower()
                if suffix not in _BY_SUFFIX:
                    raise UsageError(f"cannot tell the format of '{out}'; add --format")
                formats.append(_BY_SUFFIX[suffix])
        if len(formats) != len(outputs):
            raise UsageError(
                f"{len(formats)} --format but {len(outputs)} --output; give one --output "
                "per --format, in the same order"
            )
        return list(zip(formats, outputs, strict=True))
    if len(chosen_formats) == 1:
        return [(chosen_formats[0], "-")]
    chosen = chosen_formats or DEFAULT_FORMATS
    return [(fmt, str(reports_dir / default_name(fmt))) for fmt in chosen]


def execute(req: ScanRequest) -> ScanOutcome:
    """Run the scan and write the reports; a scanner that could not run raises
    :class:`ToolError`, blocking findings :class:`GateFailed` (except when only writing a
    baseline), after the reports are written."""
    root = req.path.resolve()
    if not root.is_dir():
        raise UsageError(f"PATH must be a directory: {req.path}")
    outputs = plan_outputs(req)
    config = load_scan_config(root, req.config)
    if req.git_history:
        if not files_mod.is_git(root):
            raise UsageError(f"--git-history needs a git repository; {req.path} is not in one")
        config = config.model_copy(update={"git_history": True})
    settings = ScanSettings(
        root=root,
        config=config,
        only=req.only,
        skip=req.skip,
        offline=req.offline,
        changed_since=req.changed_since,
        use_cache=req.use_cache,
    )
    if req.jobs:
        settings = dataclasses.replace(settings, jobs=req.jobs)
    ci = not sys.stderr.isatty()
    outcome = run_scan(
        settings,
        baseline=req.baseline,
        progress=output.sayer("shiprail scan") if ci or get_settings().verbose else None,
    )
    write_outputs(outcome, outputs)
    output.write(render("text", outcome), human=True)
    for fmt, dest in outputs:
        if dest != "-":
            output.say(f"{fmt} report written to {dest}", prefix="shiprail scan")
    for run in outcome.failed_scanners:
        hint = f"; install it: {run.install}" if run.install else ""
        output.error(f"scanner '{run.name}' {run.status}: {run.reason}{hint}")
    if req.write_baseline:
        entries = baseline_entries(outcome)
        baseline_mod.write(req.write_baseline, entries)
        output.say(
            f"baseline of {len(entries)} finding(s) written to {req.write_baseline}",
            prefix="shiprail scan",
        )
    if outcome.failed_scanners:
        names = ", ".join(run.name for run in outcome.failed_scanners)
        raise ToolError(f"{len(outcome.failed_scanners)} scanner(s) did not run: {names}")
    blocking = len(outcome.decision.blocking)
    if blocking and not req.write_baseline:
        raise GateFailed(f"{blocking} blocking finding(s); see the reports above")
    return outcome


def write_outputs(outcome: ScanOutcome, outputs: list[tuple[str, str]]) -> None:
    for fmt, dest in outputs:
        body = render(fmt, outcome)
        if dest == "-":
            output.write(body)
        else:
            path = Path(dest)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(body, encoding="utf-8")
