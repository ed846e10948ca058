"""`shiprail scan`: the security gate over a source tree."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shiprail.cli._app import app, report

#: options kept outside the signature so the command stays readable
_Baseline = Annotated[
    Path | None,
    typer.Option(envvar="SHIPRAIL_BASELINE", help="Block only on findings not in it."),
]
_WriteBaseline = Annotated[
    Path | None,
    typer.Option(envvar="SHIPRAIL_WRITE_BASELINE", help="Record current findings here."),
]
_ChangedSince = Annotated[
    str | None,
    typer.Option(envvar="SHIPRAIL_CHANGED_SINCE", help="Scan only files changed since REF."),
]
_GitHistory = Annotated[
    bool,
    typer.Option(
        "--git-history",
        envvar="SHIPRAIL_GIT_HISTORY",
        help="Also scan every commit's diff for secrets (gitleaks; scan.git_history).",
    ),
]


@app.command()
def scan(
    path: Annotated[
        Path | None,
        typer.Argument(envvar="SHIPRAIL_PATH", help="Directory to scan (default: repo root)."),
    ] = None,
    fmt: Annotated[
        list[str] | None,
        typer.Option(
            "--format",
            envvar="SHIPRAIL_FORMAT",
            help="text|json|sarif|junit|markdown|html; repeat for several (pair with --output).",
        ),
    ] = None,
    output: Annotated[
        list[str] | None,
        typer.Option(envvar="SHIPRAIL_OUTPUT", help="Report file per --format ('-' = stdout)."),
    ] = None,
    reports_dir: Annotated[
        Path | None,
        typer.Option(
            envvar="SHIPRAIL_REPORTS_DIR",
            help="Where reports go when no --output (default: PATH/reports).",
        ),
    ] = None,
    baseline: _Baseline = None,
    write_baseline: _WriteBaseline = None,
    changed_since: _ChangedSince = None,
    git_history: _GitHistory = False,
    only: Annotated[
        list[str] | None,
        typer.Option(envvar="SHIPRAIL_ONLY", help="Run only these scanners (TOOL,...)."),
    ] = None,
    skip: Annotated[
        list[str] | None,
        typer.Option(envvar="SHIPRAIL_SKIP", help="Do not run these scanners (TOOL,...)."),
    ] = None,
    offline: Annotated[
        bool,
        typer.Option(envvar="SHIPRAIL_OFFLINE", help="No network: OSV snapshot for dependencies."),
    ] = False,
    config: Annotated[
        Path | None,
        typer.Option(envvar="SHIPRAIL_CONFIG", help="shiprail.yaml to use (default: PATH's)."),
    ] = None,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", envvar="SHIPRAIL_NO_CACHE", help="Ignore cached results.")
    ] = False,
    jobs: Annotated[
        int | None,
        typer.Option(envvar="SHIPRAIL_JOBS", min=1, help="Scanners in parallel (default: cores)."),
    ] = None,
) -> None:
    """Run every applicable security scanner, write SARIF/JSON/JUnit/Markdown/HTML reports
    and decide: exit 0 passed, 1 blocking findings, 2 usage/config error, 3 scanner missing
    or crashed."""
    from shiprail.paths import repo_root
    from shiprail.scan.command import ScanRequest, execute, split_names

    request = ScanRequest(
        path=path or repo_root(),
        formats=split_names(fmt),
        outputs=tuple(output or ()),
        reports_dir=reports_dir,
        baseline=baseline,
        write_baseline=write_baseline,
        changed_since=changed_since,
        git_history=git_history,
        only=split_names(only),
        skip=split_names(skip),
        offline=offline,
        config=config,
        use_cache=not no_cache,
        jobs=jobs,
    )
    report(lambda: execute(request))
