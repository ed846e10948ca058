"""`shiprail image ...`: the security gate over built images (Trivy + the OSV data)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shiprail.cli._app import JsonOption, app, report

image_app = typer.Typer(help="Scan built images: SBOM, vulnerabilities, secrets, misconfiguration.")
app.add_typer(image_app, name="image")

_Format = Annotated[
    list[str] | None,
    typer.Option(
        "--format",
        envvar="SHIPRAIL_FORMAT",
        help="text|json|sarif|junit|markdown|html; repeat for several (pair with --output).",
    ),
]
_Output = Annotated[
    list[str] | None,
    typer.Option(envvar="SHIPRAIL_OUTPUT", help="Report file per --format ('-' = stdout)."),
]
_ReportsDir = Annotated[
    Path | None,
    typer.Option(
        envvar="SHIPRAIL_REPORTS_DIR",
        help="Where reports go when no --output (default: reports/image).",
    ),
]
_Config = Annotated[
    Path | None,
    typer.Option(envvar="SHIPRAIL_CONFIG", help="shiprail.yaml to use (default: the repo's)."),
]
_TrivyDbDir = Annotated[
    Path | None,
    typer.Option(
        envvar="SHIPRAIL_TRIVY_DB_DIR",
        help="Trivy cache dir holding db/trivy.db, used offline (image_scan.trivy_db_dir).",
    ),
]


@image_app.command("scan")
def image_scan(
    image: Annotated[str, typer.Argument(help="Local image reference or id.")],
    fmt: _Format = None,
    output: _Output = None,
    reports_dir: _ReportsDir = None,
    config: _Config = None,
    trivy_db_dir: _TrivyDbDir = None,
) -> None:
    """Write the image's SBOM, scan it with Trivy and audit its Python packages against the
    OSV data, then decide like `shiprail scan`: exit 0 passed, 1 blocking findings, 2 usage
    or config error, 3 scanner missing or crashed."""
    from shiprail._docker import docker_client
    from shiprail.image.scan import ImageScanRequest, execute
    from shiprail.scan.command import split_names

    request = ImageScanRequest(
        image=image,
        config=config,
        formats=split_names(fmt),
        outputs=tuple(output or ()),
        reports_dir=reports_dir,
        trivy_db_dir=trivy_db_dir,
    )
    report(lambda: execute(docker_client(), request))


@image_app.command("rescan")
def image_rescan(
    config: _Config = None,
    trivy_db_dir: _TrivyDbDir = None,
    production: Annotated[
        list[str] | None,
        typer.Option(
            envvar="SHIPRAIL_PRODUCTION",
            help="Environment(s) whose live release fails the rescan (default: prod).",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Check every live and retained release's stored SBOM against the current Trivy and
    OSV data: exit 1 when a blocking advisory reaches a live production release."""
    from shiprail import output
    from shiprail.deploy.runtime import open_ledger
    from shiprail.image.rescan import PREFIX, check, rescan, show
    from shiprail.image.scan import load_context
    from shiprail.scan.command import split_names

    prod = set(split_names(production) or ("prod",))

    def body() -> None:
        ctx = load_context(config, trivy_db_dir)
        result = rescan(open_ledger(), ctx, progress=output.sayer(PREFIX))
        show(result, prod, as_json=as_json)
        check(result, prod)

    report(body)


@image_app.command("mirror-db")
def image_mirror_db(
    directory: Annotated[
        Path, typer.Argument(help="Trivy cache dir holding db/trivy.db and db/metadata.json.")
    ],
    repository: Annotated[
        str, typer.Option(help="Repository in the local registry to push to.")
    ] = "trivy-db",
    tag: Annotated[str, typer.Option(help="Tag (Trivy's database schema version).")] = "2",
) -> None:
    """Push the Trivy database in DIR to the local registry as the OCI artifact Trivy pulls,
    and print its reference for image_scan.trivy_db_repository (exit 2: no database in DIR
    or the registry is not up)."""
    from shiprail import output
    from shiprail.deploy.settings import state_dir
    from shiprail.image.registry import LocalRegistry
    from shiprail.image.trivy_mirror import check_request, mirror

    def body() -> None:
        check_request(directory, repository, tag)  # before asking for the registry
        access = LocalRegistry(state_dir()).access()
        say = output.sayer("shiprail image mirror-db")
        mirrored = mirror(directory, access, repository=repository, tag=tag, progress=say)
        say(f"Trivy database (updated {mirrored.updated[:10]}) mirrored as {mirrored.digest}")
        say("put the reference below into image_scan.trivy_db_repository in shiprail.yaml")
        output.emit(mirrored.reference)

    report(body)
