"""Plan and run the scanners: in parallel (bounded by the cores), each with a timeout, each
result cached by tool version, configuration and the content of the files it reads.

The engine never decides pass or fail (``gate.py`` does); it records for every registered
scanner what happened to it - ran, read from cache, not applicable, skipped (and why),
missing (and how to install it) or crashed (and how).
"""

from __future__ import annotations

import hashlib
import inspect
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from packaging.version import InvalidVersion, Version

from shiprail import _subprocess
from shiprail.errors import ShiprailError
from shiprail.findings import Category, Finding, read_line
from shiprail.scan import cache as cache_mod
from shiprail.scan import files as files_mod
from shiprail.scan.fingerprint import normalise
from shiprail.scan.scanners.interface import Scanner, ScanNote
from shiprail.scan.settings import ScanSettings

# statuses of a scanner in one run
RAN, CACHED, NOT_APPLICABLE, SKIPPED, MISSING, CRASHED = (
    "ran",
    "cached",
    "not-applicable",
    "skipped",
    "missing",
    "crashed",
)


@dataclass
class ScannerRun:
    name: str
    category: Category
    status: str
    files: int = 0
    seconds: float = 0.0
    version: str | None = None
    reason: str | None = None
    install: str | None = None
    offline: bool = True
    findings: list[Finding] = field(default_factory=list)
    notes: list[ScanNote] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return self.status in (MISSING, CRASHED)


def install_hint(tool: str, home: Path) -> str:
    """The command that installs ``tool``, from tools.lock when it is listed there."""
    from shiprail.tools import load_lock

    try:
        for entry in load_lock(home / "tools.lock"):
            if entry.name == tool or entry.binary == tool:
                return entry.install_command()
    except ShiprailError:
        pass
    return f"scripts/install-tools.sh {tool}"


def _module_digest(scanner: Scanner) -> str:
    try:
        source = inspect.getsourcefile(type(scanner))
        return hashlib.sha256(Path(source).read_bytes()).hexdigest() if source else "?"
    except (OSError, TypeError):
        return "?"


class Engine:
    def __init__(
        self,
        settings: ScanSettings,
        scanners: Sequence[Scanner],
        *,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        self.settings = settings
        self.scanners = list(scanners)
        self.progress = progress or (lambda _message: None)
        cache_dir = settings.cache_dir()
        self.cache = cache_mod.ResultCache(cache_dir / "results", settings.use_cache)
        self.versions = cache_mod.VersionCache(cache_dir / "versions.json", settings.use_cache)

    # -- planning ---------------------------------------------------------------------------
    def _skip_reason(self, scanner: Scanner) -> str | None:
        s = self.settings
        if s.only and scanner.name not in s.only:
            return "not selected (--only)"
        if scanner.name in s.skip:
            return "skipped on the command line (--skip)"
        for item in s.config.skip:
            if item.tool == scanner.name:
                return f"skipped by shiprail.yaml: {item.reason}"
        if s.is_offline and not scanner.offline:
            return "needs the network; offline mode"
        return None

    def _version(self, scanner: Scanner) -> str | None:
        command = scanner.version_command()
        if not command:
            return None
        path = _subprocess.which(command[0])
        if path is None:
            return None
        identity = cache_mod.VersionCache.identity(path)
        known = self.versions.get(identity)
        if known:
            return known
        result = _subprocess.run(command, timeout=120, env=scanner.env, ok_codes=None)
        output = result.stdout + "\n" + result.stderr
        digest = hashlib.sha256(identity.encode()).hexdigest()[:12]
        # a build that does not know its own version is told apart by its binary
        version = scanner.parse_tool_version(output) or f"unknown-{digest}"
        self.versions.put(identity, version)
        return version

    # -- running ----------------------------------------------------------------------------
    def run(self, files: list[Path]) -> list[ScannerRun]:
        runs: list[ScannerRun] = []
        todo: list[tuple[Scanner, ScannerRun, list[Path]]] = []
        for scanner in self.scanners:
            scanner.timeout = min(scanner.timeout, self.settings.config.timeout)
            run = ScannerRun(
                scanner.name, scanner.category, NOT_APPLICABLE, offline=scanner.offline
            )
            runs.append(run)
            reason = self._skip_reason(scanner)
            applicable = scanner.applies_to(self.settings.root, files)
            run.files = len(applicable)
            if reason:
                run.status, run.reason = SKIPPED, reason
                continue
            if not applicable and not scanner.runs_without_files():
                continue
            if scanner.binary and _subprocess.which(scanner.binary) is None:
                run.status = MISSING
                run.reason = f"'{scanner.binary}' is not installed"
                run.install = install_hint(scanner.tool or scanner.name, self.settings.home)
                continue
            todo.append((scanner, run, applicable))
        if todo:
            workers = max(1, min(self.settings.jobs, len(todo)))
            with ThreadPoolExecutor(max_workers=workers) as pool:
                list(pool.map(lambda item: self._run_one(*item), todo))
        return runs

    def _run_one(self, scanner: Scanner, run: ScannerRun, applicable: list[Path]) -> None:
        started = time.monotonic()
        root = self.settings.root
        try:
            run.version = self._version(scanner)
            if (
                scanner.min_version
                and run.version
                and not _at_least(run.version, scanner.min_version)
            ):
                run.status = MISSING
                run.reason = f"needs {scanner.binary} >= {scanner.min_version}, found {run.version}"
                run.install = install_hint(scanner.tool or scanner.name, self.settings.home)
                return
            hashes = cache_mod.FileHashes(root)
            material = {
                "scanner": scanner.name,
                "module": _module_digest(scanner),
                "version": run.version,
                "offline": self.settings.is_offline,
                "extra": scanner.cache_key_extra(),
                "inputs": {str(p): hashes.get(p) for p in scanner.config_inputs(root)},
                "files": {p.as_posix(): hashes.get(p) for p in applicable},
            }
            key = cache_mod.key(material)
            cached = self.cache.load(scanner.name, key)
            if cached is not None:
                run.findings, run.notes = cached
                run.status = CACHED
                return
            self.progress(f"running {scanner.name} on {len(applicable)} file(s)")
            findings = scanner.scan(root, applicable)
            secret = scanner.category == Category.secrets
            findings = [self._complete(f, secret=secret) for f in findings]
            findings = [f for f in findings if not self._ignored(f.path)]
            run.findings = findings
            run.notes = list(scanner.notes())
            run.status = RAN
            self.cache.store(scanner.name, key, run.findings, run.notes)
        except ShiprailError as exc:
            run.status, run.reason = CRASHED, exc.message
        except Exception as exc:  # a scanner module bug must not hide the other results
            run.status, run.reason = CRASHED, f"{type(exc).__name__}: {exc}"
        finally:
            run.seconds = time.monotonic() - started

    def _complete(self, finding: Finding, *, secret: bool = False) -> Finding:
        path = finding.path.removeprefix("./")
        line = max(1, finding.start_line or 1)
        snippet = finding.snippet
        if snippet is None:
            snippet = read_line(self.settings.root, path, line) or ""
        if secret:
            # the offending line holds the secret: keep only a digest of it (the fingerprint
            # stays stable across moves and re-indents) so the cache never stores the value
            digest = hashlib.sha256(normalise(snippet).encode("utf-8")).hexdigest()
            snippet = f"sha256:{digest}"
        return replace(finding, path=path, start_line=line, snippet=snippet)

    def _ignored(self, path: str) -> bool:
        patterns = [*files_mod.ALWAYS_IGNORED, *(i.path for i in self.settings.config.ignore)]
        return any(files_mod.matches(path, p) for p in patterns)


def _at_least(found: str, needed: str) -> bool:
    try:
        return Version(found) >= Version(needed)
    except InvalidVersion:
        return True
