"""``shiprail image scan IMAGE``: the security gate over a built image.

Trivy reads the exported image twice from one tarball: once for the CycloneDX SBOM (kept
under the image digest, for the release and for later rescans) and once for its
vulnerability, secret and misconfiguration scanners. The SBOM's Python packages are also
audited against the offline OSV data ``shiprail scan`` uses (the same code). The findings
then go through the same gate as ``shiprail scan``: the same threshold (``scan.threshold``,
``scan.categories``), the same waivers file and expiry rules, the same SARIF and reports.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from shiprail import output
from shiprail.config import CONFIG_FILE, ShiprailConfig, load_config
from shiprail.errors import GateFailed, ToolError, ToolMissing, UsageError
from shiprail.findings import Category
from shiprail.image import scan_record, trivy
from shiprail.image.sbom import (
    Sbom,
    exported,
    image_digest,
    make_sbom,
    python_pins,
    sbom_path,
    stored_sbom,
)
from shiprail.image.scan_record import ScanRecord
from shiprail.image.trivy import TrivyData
from shiprail.scan import waivers as waivers_mod
from shiprail.scan.command import plan_report_outputs, write_outputs
from shiprail.scan.engine import CRASHED, MISSING, RAN, ScannerRun
from shiprail.scan.gate import decide
from shiprail.scan.report import render
from shiprail.scan.runner import ScanOutcome
from shiprail.scan.scanners.interface import ScanNote
from shiprail.scan.scanners.osv import AdvisoryDB, OsvScanner, audit
from shiprail.scan.settings import ScanSettings

if TYPE_CHECKING:
    from shiprail._docker import DockerClient

PREFIX = "shiprail image scan"


@dataclass(frozen=True)
class ImageScanRequest:
    image: str
    #: shiprail.yaml; its folder is the root waivers and data paths are relative to
    config: Path | None = None
    formats: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    #: None: ``reports/image/`` under the root
    reports_dir: Path | None = None
    #: overrides ``image_scan.trivy_db_dir``
    trivy_db_dir: Path | None = None


@dataclass
class ImageScanResult:
    outcome: ScanOutcome
    sbom: Sbom


@dataclass(frozen=True)
class Context:
    """The configuration one image scan (or rescan) resolves once."""

    settings: ScanSettings
    config: ShiprailConfig
    data: TrivyData

    @property
    def timeout(self) -> float:
        return self.config.image_scan.timeout

    def sbom_dir(self) -> Path:
        return self.settings.root / self.config.image_scan.sbom_dir


def load_context(config_file: Path | None, trivy_db_dir: Path | None = None) -> Context:
    """Read shiprail.yaml (the repository's by default) and pick the Trivy data source."""
    from shiprail.paths import repo_root

    if config_file is not None and not config_file.is_file():
        raise UsageError(f"config file not found: {config_file}")
    path = (config_file or repo_root() / CONFIG_FILE).resolve()
    config = load_config(path)
    if trivy_db_dir is not None:
        image_scan = config.image_scan.model_copy(update={"trivy_db_dir": str(trivy_db_dir)})
        config = config.model_copy(update={"image_scan": image_scan})
    settings = ScanSettings(root=path.parent, config=config.scan)
    data = trivy.trivy_data(config.image_scan, lambda v: settings.resolve(v, prefer_root=True))
    return Context(settings, config, data)


def trivy_run(target: list[str], ctx: Context, progress: Callable[[str], None]) -> ScannerRun:
    """Run Trivy over ``target`` (an image tarball or an SBOM) and collect its findings."""
    run = ScannerRun(trivy.TRIVY, Category.container, RAN)
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="shiprail-trivy-") as tmp:
            report = Path(tmp) / "trivy.json"
            command = trivy.scan_command(target, ctx.data, report)
            scanners = command[command.index("--scanners") + 1]
            progress(f"running trivy {target[0]} ({scanners})")
            trivy.run_trivy(command, ctx.timeout)
            scanned = json.loads(report.read_text(encoding="utf-8"))
            run.findings = trivy.findings(scanned, target[-1])
    except ToolError as exc:
        run.status = MISSING if isinstance(exc, ToolMissing) else CRASHED
        run.reason = exc.message
        run.install = exc.install if isinstance(exc, ToolMissing) else None
    run.seconds = time.monotonic() - started
    run.notes = [ScanNote(trivy.TRIVY, ctx.data.description)]
    return run


def osv_run(sbom: Sbom, ctx: Context) -> ScannerRun:
    """The SBOM's Python packages against the offline OSV data of ``scan.dependencies``."""
    run = ScannerRun(OsvScanner.name, OsvScanner.category, RAN)
    started = time.monotonic()
    path = ctx.settings.advisory_db()
    pins = python_pins(sbom.packages())
    run.files = len(pins)
    if not path.is_dir():
        run.status = MISSING
        run.reason = f"advisory database ({path}) is missing"
        run.install = "scripts/fetch-data.sh advisory-db   # or set SHIPRAIL_ADVISORY_DB"
        return run
    db = AdvisoryDB(path)
    run.findings = audit(db, pins)
    run.notes = [
        ScanNote(
            OsvScanner.name,
            f"Python packages of the image checked offline against {db.describe()}; "
            f"{len(pins)} package version(s) audited",
        )
    ]
    run.seconds = time.monotonic() - started
    return run


def judge(
    ctx: Context,
    runs: list[ScannerRun],
    *,
    target: str,
    header: str,
    started: dt.datetime,
    seconds: float,
    today: dt.date | None = None,
) -> ScanOutcome:
    """The same decision as ``shiprail scan``: waivers, threshold, per-category thresholds."""
    settings = ctx.settings
    waivers = waivers_mod.load(settings.root / settings.config.waivers, settings.config.waivers)
    decision = decide(settings.root, runs, settings.config, waivers, None, today)
    return ScanOutcome(
        settings=settings,
        files=sum(r.files for r in runs if r.name == OsvScanner.name),
        runs=runs,
        decision=decision,
        started=started,
        seconds=seconds,
        notes=[n for r in runs for n in r.notes],
        target=target,
        header=header,
    )


def scan_image(
    client: DockerClient,
    reference: str,
    ctx: Context,
    *,
    today: dt.date | None = None,
    progress: Callable[[str], None] = lambda _m: None,
) -> ImageScanResult:
    """SBOM, Trivy and the OSV audit of one local image, judged by the gate (no raising on
    blocking findings: :func:`execute` does that after writing the reports)."""
    started_at = dt.datetime.now(dt.UTC)
    started = time.monotonic()
    digest = image_digest(client, reference)
    dest = sbom_path(ctx.sbom_dir(), digest)
    with exported(client, reference) as tarball:
        sbom = stored_sbom(dest, reference, digest)
        if sbom is None:
            progress(f"SBOM of {reference} ({digest[:19]})")
            sbom = make_sbom(
                tarball, reference, digest, dest, cache_dir=ctx.data.cache_dir, timeout=ctx.timeout
            )
        trivy_scan = trivy_run(["image", "--input", str(tarball)], ctx, progress)
    packages = sbom.packages()
    trivy_scan.files = len(packages)
    runs = [trivy_scan, osv_run(sbom, ctx)]
    seconds = time.monotonic() - started
    header = (
        f"{PREFIX}: {reference} ({digest}), {len(packages)} package(s) in {seconds:.1f}s; "
        f"SBOM {sbom.path} (sha256 {sbom.sha256[:12]})"
    )
    outcome = judge(
        ctx,
        runs,
        target=f"{reference}@{digest}",
        header=header,
        started=started_at,
        seconds=seconds,
        today=today,
    )
    record = ScanRecord(
        image=reference,
        digest=digest,
        sbom_sha256=sbom.sha256,
        started=started_at.isoformat(timespec="seconds"),
        finished=scan_record.now(),
        runs=tuple(runs),
    )
    scan_record.save(record, ctx.sbom_dir())
    return ImageScanResult(outcome, sbom)


def judge_record(ctx: Context, record: ScanRecord, today: dt.date | None = None) -> ScanOutcome:
    """A stored (or attested) scan judged again with today's waivers and threshold."""
    return judge(
        ctx,
        list(record.runs),
        target=f"{record.image}@{record.digest}",
        header=f"{PREFIX}: {record.image} ({record.digest}), scanned {record.finished}",
        started=dt.datetime.now(dt.UTC),
        seconds=0.0,
        today=today,
    )


def refusal(outcome: ScanOutcome) -> str | None:
    """Why a judged scan does not let the image through (None: it does)."""
    if outcome.failed_scanners:
        names = ", ".join(f"{r.name} {r.status}" for r in outcome.failed_scanners)
        return f"the scan is incomplete ({names})"
    blocking = outcome.decision.blocking
    if not blocking:
        return None
    named = ", ".join(
        f"{i.finding.rule.id} ({i.finding.severity}" + (f", {i.note}" if i.note else "") + ")"
        for i in blocking[:5]
    )
    more = f" and {len(blocking) - 5} more" if len(blocking) > 5 else ""
    return f"{len(blocking)} blocking finding(s): {named}{more}"


def finish(outcome: ScanOutcome, outputs: list[tuple[str, str]], prefix: str) -> None:
    """Write the reports, print the summary, and raise as ``shiprail scan`` does."""
    write_outputs(outcome, outputs)
    output.write(render("text", outcome), human=True)
    for fmt, dest in outputs:
        if dest != "-":
            output.say(f"{fmt} report written to {dest}", prefix=prefix)
    for run in outcome.failed_scanners:
        hint = f"; install it: {run.install}" if run.install else ""
        output.error(f"scanner '{run.name}' {run.status}: {run.reason}{hint}")
    if outcome.failed_scanners:
        names = ", ".join(run.name for run in outcome.failed_scanners)
        raise ToolError(f"{len(outcome.failed_scanners)} scanner(s) did not run: {names}")
    if outcome.decision.blocking:
        raise GateFailed(f"{len(outcome.decision.blocking)} blocking finding(s) in the image")


def execute(client: DockerClient, req: ImageScanRequest) -> ImageScanResult:
    """``shiprail image scan``: scan, write the reports, raise on missing tools (exit 3) or
    blocking findings (exit 1)."""
    ctx = load_context(req.config, req.trivy_db_dir)
    outputs = plan_report_outputs(
        req.formats, req.outputs, req.reports_dir or ctx.settings.root / "reports" / "image"
    )
    progress = output.sayer(PREFIX) if not sys.stderr.isatty() else (lambda _m: None)
    result = scan_image(client, req.image, ctx, progress=progress)
    finish(result.outcome, outputs, PREFIX)
    return result
