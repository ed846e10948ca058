"""Trivy, the image scanner: how it is run, which vulnerability data it uses, and how its
JSON report becomes :class:`shiprail.findings.Finding` values.

Every run is offline-safe: the misconfiguration checks are the ones built into the pinned
binary (``--skip-check-update``), the Java database is never fetched, and the vulnerability
database comes only from where ``image_scan:`` says (a directory, used as is, or a mirrored
OCI repository; one in the local registry is pulled with its credentials and CA, see
:func:`pull_env`). With no database configured Trivy runs its secret and misconfiguration
scanners only, and :attr:`TrivyData.description` says that OS packages went unaudited.

Severity: Trivy's own (CRITICAL/HIGH/MEDIUM/LOW); UNKNOWN counts as high, as the OSV audit
does for an advisory without a severity - a published advisory for the installed version.
"""

from __future__ import annotations

import hashlib
import json
import ssl
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shiprail import _subprocess
from shiprail.errors import ShiprailError, ToolCrashed
from shiprail.findings import Category, Finding, Rule, Severity
from shiprail.image.settings import ImageScanConfig

if TYPE_CHECKING:
    from shiprail.image.registry import RegistryAccess

TRIVY = "trivy"
TRIVY_INSTALL = "scripts/install-tools.sh trivy"
_SEVERITY = {
    "CRITICAL": Severity.critical,
    "HIGH": Severity.high,
    "MEDIUM": Severity.medium,
    "LOW": Severity.low,
}


def trivy_command(*args: str, cache_dir: Path) -> list[str]:
    """A Trivy command line that never phones home for what it does not need."""
    return [
        TRIVY,
        *args,
        "--cache-dir",
        str(cache_dir),
        "--quiet",
        "--no-progress",
        "--disable-telemetry",
    ]


def run_trivy(args: list[str], timeout: float) -> _subprocess.Completed:
    """Run Trivy; a database pulled from the local registry comes with its access."""
    repository = args[args.index("--db-repository") + 1] if "--db-repository" in args else None
    with pull_env(repository) as env:
        return _subprocess.run(args, timeout=timeout, env=env, install_hint=TRIVY_INSTALL)


@contextmanager
def pull_env(repository: str | None) -> Iterator[dict[str, str]]:
    """What Trivy needs to pull ``repository`` when the local registry (``shiprail registry
    up``) holds it: the credentials in ``TRIVY_USERNAME``/``TRIVY_PASSWORD`` (an environment
    only this user can read, never the command line ``ps`` shows) and ``SSL_CERT_FILE``, a
    bundle of the system's CAs plus the local CA, so TLS stays verified. Any other registry
    gets nothing: Trivy uses the ambient ``docker login`` as it always does."""
    access = _local_registry(repository) if repository else None
    if access is None or access.ca_file is None:
        yield {}
        return
    with tempfile.TemporaryDirectory(prefix="shiprail-trivy-ca-") as tmp:
        bundle = Path(tmp) / "ca-bundle.pem"
        bundle.write_text(_system_cas() + access.ca_file.read_text(encoding="ascii"))
        yield {
            "TRIVY_USERNAME": access.username,
            "TRIVY_PASSWORD": access.password,
            "SSL_CERT_FILE": str(bundle),
        }


def _local_registry(repository: str) -> RegistryAccess | None:
    """The local registry's access when it runs and ``repository`` is on its host."""
    from shiprail.deploy.settings import state_dir
    from shiprail.image.registry import LocalRegistry

    registry = LocalRegistry(state_dir())
    host = registry.status().host
    if host is None or repository.split("/", 1)[0] != host:
        return None
    return registry.access()


def _system_cas() -> str:
    """The CA bundle OpenSSL trusts here (``SSL_CERT_FILE`` when set), or "" without one."""
    paths = ssl.get_default_verify_paths()
    for candidate in (paths.cafile, paths.openssl_cafile):
        if candidate and Path(candidate).is_file():
            text = Path(candidate).read_text(encoding="utf-8", errors="replace")
            return text if text.endswith("\n") else text + "\n"
    return ""


@dataclass(frozen=True)
class TrivyData:
    """The vulnerability database one run uses, and what the report says about it."""

    cache_dir: Path
    flags: tuple[str, ...]
    #: False when no database is configured: OS packages are not audited
    vulnerabilities: bool
    description: str

    def scanners(self) -> str:
        return "vuln,secret,misconfig" if self.vulnerabilities else "secret,misconfig"


def trivy_data(config: ImageScanConfig, resolve: Callable[[str], Path]) -> TrivyData:
    """The database source ``image_scan:`` names: a directory, a mirror, or none."""
    fixed = ("--skip-java-db-update",)
    if config.trivy_db_dir:
        cache = resolve(config.trivy_db_dir)
        meta = cache / "db" / "metadata.json"
        if not meta.is_file():
            raise ToolCrashed(
                f"image_scan.trivy_db_dir: no Trivy database in {cache} (expected {meta})",
                hint="copy a Trivy cache's db/ folder there, or name a mirror with "
                "image_scan.trivy_db_repository",
            )
        return TrivyData(
            cache,
            ("--skip-db-update", "--offline-scan", *fixed),
            True,
            f"Trivy database in {cache} ({_updated(meta)}; not updated by the scan)",
        )
    cache = resolve(config.cache_dir)
    if config.trivy_db_repository:
        return TrivyData(
            cache,
            ("--db-repository", config.trivy_db_repository, "--offline-scan", *fixed),
            True,
            f"Trivy database from {config.trivy_db_repository}",
        )
    return TrivyData(
        cache,
        ("--offline-scan", *fixed),
        False,
        "Debian (OS) packages were NOT audited: no Trivy vulnerability database is "
        "configured (image_scan.trivy_db_dir or image_scan.trivy_db_repository); "
        "only Trivy's secret and misconfiguration scanners ran",
    )


def _updated(meta: Path) -> str:
    try:
        data = json.loads(meta.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "date unknown"
    return f"updated {str(data.get('UpdatedAt', 'unknown'))[:10]}"


def scan_command(target: list[str], data: TrivyData, output: Path) -> list[str]:
    """``trivy image --input TAR ...`` or ``trivy sbom FILE ...`` writing JSON to ``output``.

    An SBOM is checked for vulnerabilities only (secrets and misconfiguration are properties
    of the image, fixed at build time); the image's misconfiguration checks are the ones
    built into the binary, never a downloaded bundle."""
    image = target[0] == "image"
    return trivy_command(
        *target,
        "--scanners",
        data.scanners() if image else "vuln",
        # the image's own configuration too (root user, no health check, secrets in history)
        *(("--image-config-scanners", "misconfig,secret", "--skip-check-update") if image else ()),
        *data.flags,
        "--format",
        "json",
        "--output",
        str(output),
        cache_dir=data.cache_dir,
    )


#: The path of findings in the image's configuration (Trivy names the input tarball there).
IMAGE_CONFIG = "image-config"


def findings(report: dict[str, Any], scanned: str | None = None) -> list[Finding]:
    """Vulnerabilities, secrets and failed misconfiguration checks of a Trivy JSON report.

    ``scanned`` is what Trivy was given (a temporary tarball): results about it are about the
    image's configuration, and get a stable path so fingerprints and waivers survive.
    """
    out: list[Finding] = []
    for result in report.get("Results") or []:
        target = str(result.get("Target", ""))
        if scanned and target == scanned:
            target = IMAGE_CONFIG
        for vuln in result.get("Vulnerabilities") or []:
            out.append(_vulnerability(result, vuln))
        for secret in result.get("Secrets") or []:
            out.append(_secret(target, secret))
        for check in result.get("Misconfigurations") or []:
            if check.get("Status", "FAIL") == "FAIL":
                out.append(_misconfiguration(target, check))
    return out


def _severity(value: Any) -> Severity:
    return _SEVERITY.get(str(value).upper(), Severity.high)


def _vulnerability(result: dict[str, Any], vuln: dict[str, Any]) -> Finding:
    vid = str(vuln.get("VulnerabilityID", "?"))
    name = str(vuln.get("PkgName", "?"))
    installed = str(vuln.get("InstalledVersion", ""))
    fixed = str(vuln.get("FixedVersion") or "")
    status = str(vuln.get("Status") or "")
    kind = str(result.get("Type") or result.get("Class") or "package")
    # the file a language package was found in, else the OS package's own name
    path = str(vuln.get("PkgPath") or f"{kind}/{name}")
    title = str(vuln.get("Title") or vuln.get("Description") or vid).strip().split("\n")[0]
    fix = f"; fixed in {fixed}" if fixed else f"; no fix ({status or 'unknown status'})"
    return Finding(
        tool=TRIVY,
        rule=Rule(
            id=vid,
            name=f"{name}: {vid}",
            description=title[:300],
            help_uri=vuln.get("PrimaryURL") or None,
            help_text=f"Upgrade {name} to {fixed}." if fixed else None,
        ),
        severity=_severity(vuln.get("Severity")),
        message=f"{kind} package {name} {installed} is affected by {vid}{fix}",
        path=path,
        snippet=f"{name} {installed}",
        properties={"package": name, "version": installed, "fixed": fixed, "type": kind},
        category=Category.container,
    )


def _secret(target: str, secret: dict[str, Any]) -> Finding:
    rule = str(secret.get("RuleID", "secret"))
    # the matched line may hold the secret: keep only its digest (for a stable fingerprint)
    digest = hashlib.sha256(str(secret.get("Match", "")).encode("utf-8")).hexdigest()
    return Finding(
        tool=TRIVY,
        rule=Rule(id=rule, name=rule, description=str(secret.get("Title") or rule)),
        severity=_severity(secret.get("Severity")),
        message=f"secret in the image: {secret.get('Title') or rule}",
        path=target.lstrip("/"),
        start_line=max(1, int(secret.get("StartLine") or 1)),
        snippet=f"sha256:{digest}",
        category=Category.secrets,
    )


def _misconfiguration(target: str, check: dict[str, Any]) -> Finding:
    rule = str(check.get("ID") or check.get("AVDID") or "misconfig")
    cause = check.get("CauseMetadata") or {}
    line = max(1, int(cause.get("StartLine") or 1))
    return Finding(
        tool=TRIVY,
        rule=Rule(
            id=rule,
            name=str(check.get("Title") or rule),
            description=str(check.get("Description") or check.get("Title") or rule)[:1000],
            help_uri=check.get("PrimaryURL") or None,
            help_text=check.get("Resolution") or None,
        ),
        severity=_severity(check.get("Severity")),
        message=str(check.get("Message") or check.get("Title") or rule),
        path=target or IMAGE_CONFIG,
        start_line=line,
        snippet=f"{rule} {target}",
        category=Category.container,
    )


def trivy_version() -> str:
    """The Trivy version ``tools.lock`` pins (what a scan here ran), or "" without a lock."""
    from shiprail.tools import load_lock

    try:
        return next((t.version for t in load_lock() if t.name == TRIVY), "")
    except (OSError, ShiprailError):
        return ""
