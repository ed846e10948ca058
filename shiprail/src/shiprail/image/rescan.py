"""``shiprail image rescan``: what is deployed, checked again against today's data.

Advisories are published after an image ships. Every live and retained release in the
ledger (the ones a rollback may bring back) is looked up by image digest, and the SBOM kept
for that digest when the image was scanned is checked again - by Trivy (``trivy sbom``,
vulnerabilities only: secrets and misconfigurations do not change after the build) and by
the OSV audit of its Python packages - through the same gate and waivers as the image scan.

Only a blocking finding in a release live in a production environment fails the command
(exit 1): that is the one that needs action now. Other releases are reported. A release
whose SBOM is missing is named in the report, since it could not be checked.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from shiprail import output
from shiprail.deploy.ledger import Ledger
from shiprail.deploy.records import Release
from shiprail.deploy.retention import kept_releases
from shiprail.deploy.states import ReleaseState
from shiprail.errors import GateFailed, ToolError
from shiprail.image.sbom import Sbom, sbom_path, sha256_file
from shiprail.image.scan import Context, judge, osv_run, trivy_run
from shiprail.scan.report import json_report, render
from shiprail.scan.runner import ScanOutcome

PREFIX = "shiprail image rescan"


@dataclass
class RescannedImage:
    digest: str
    releases: list[Release]
    outcome: ScanOutcome

    def live_in(self, production: set[str]) -> list[Release]:
        live = [r for r in self.releases if r.status == ReleaseState.live]
        return [r for r in live if r.environment in production]


@dataclass
class RescanResult:
    images: list[RescannedImage] = field(default_factory=list)
    #: releases whose image has no stored SBOM (they could not be checked)
    unchecked: list[Release] = field(default_factory=list)

    def blocking_in_production(self, production: set[str]) -> list[RescannedImage]:
        return [i for i in self.images if i.live_in(production) and i.outcome.decision.blocking]


def releases_to_check(ledger: Ledger, ctx: Context) -> dict[str, list[Release]]:
    """Live and retained releases of every configured environment, by image digest."""
    by_digest: dict[str, list[Release]] = {}
    for name, env in ctx.config.environments.items():
        keep = kept_releases(ledger, name, env.keep_releases)
        for release in ledger.releases(name):
            if release.id in keep:
                by_digest.setdefault(release.image_digest, []).append(release)
    return by_digest


def rescan(
    ledger: Ledger,
    ctx: Context,
    *,
    today: dt.date | None = None,
    progress: Callable[[str], None] | None = None,
) -> RescanResult:
    """Check every kept release's SBOM against the current Trivy and OSV data."""
    say = progress or (lambda _m: None)
    result = RescanResult()
    for digest, releases in sorted(releases_to_check(ledger, ctx).items()):
        path = sbom_path(ctx.sbom_dir(), digest)
        if not path.is_file():
            result.unchecked.extend(releases)
            continue
        started_at, started = dt.datetime.now(dt.UTC), time.monotonic()
        sbom = Sbom(path, sha256_file(path), releases[0].image, digest)
        runs = [trivy_run(["sbom", str(path)], ctx, say), osv_run(sbom, ctx)]
        runs[0].files = len(sbom.packages())
        names = ", ".join(f"{r.environment}/{r.id} ({r.status})" for r in releases)
        seconds = time.monotonic() - started
        header = f"{PREFIX}: {releases[0].image} ({digest}) of {names}, SBOM {path}"
        outcome = judge(
            ctx,
            runs,
            target=f"{releases[0].image}@{digest}",
            header=header,
            started=started_at,
            seconds=seconds,
            today=today,
        )
        result.images.append(RescannedImage(digest, releases, outcome))
    return result


def check(result: RescanResult, production: set[str]) -> None:
    """Raise when a scanner failed (exit 3) or a live production release is affected (1)."""
    failed = sorted({r.name for i in result.images for r in i.outcome.failed_scanners})
    if failed:
        raise ToolError(f"scanner(s) did not run: {', '.join(failed)}")
    hit = result.blocking_in_production(production)
    if hit:
        named = ", ".join(
            f"{r.environment}/{r.id} ({len(i.outcome.decision.blocking)} blocking)"
            for i in hit
            for r in i.live_in(production)
        )
        raise GateFailed(f"a blocking advisory reaches live production: {named}")


def summary(result: RescanResult, production: set[str]) -> dict[str, Any]:
    """The rescan as data (``--json``): each image with its releases and full report."""
    return {
        "production": sorted(production),
        "images": [
            {
                "digest": image.digest,
                "releases": [r.as_json() for r in image.releases],
                "live_in_production": bool(image.live_in(production)),
                "report": json_report.data(image.outcome),
            }
            for image in result.images
        ],
        "unchecked": [r.as_json() for r in result.unchecked],
        "blocking_in_production": len(result.blocking_in_production(production)),
    }


def show(result: RescanResult, production: set[str], *, as_json: bool) -> None:
    """Each image's summary on stderr (and the whole rescan on stdout with ``as_json``)."""
    for image in result.images:
        output.write(render("text", image.outcome), human=True)
    for release in result.unchecked:
        output.say(
            f"not checked: {release.environment}/{release.id} ({release.status}): no SBOM "
            f"stored for {release.image_digest}; run `shiprail image scan {release.image}`",
            prefix=PREFIX,
        )
    if not result.images and not result.unchecked:
        output.say("no live or retained release in the ledger", prefix=PREFIX)
    if as_json:
        output.emit_json(summary(result, production))
