"""Plan and run the scanners: in parallel (bounded by the cores), each with a timeout, each
result cached by tool version, configuration and the content of the files it reads.

Incremental by default: a scanner whose findings in a file depend on that file alone
(``Scanner.per_file``) is cached per file and runs only on the files that changed, in
batches (:mod:`shiprail.scan.jobs`); the others are cached as one unit. All jobs of a run
share one pool, longest first.

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
from shiprail.scan import jobs as jobs_mod
from shiprail.scan.cache import FileHashes
from shiprail.scan.fingerprint import normalise
from shiprail.scan.scanners.interface import Scanner, ScanNote, Unit
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
    #: files the tool read in this run (the others came from the cache)
    scanned: int = 0
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


@dataclass
class _Plan:
    """One scanner's part of a run: its cache key and the jobs left to run."""

    scanner: Scanner
    run: ScannerRun
    applicable: list[Path]
    #: the whole-scanner key, or for a per-file scanner the key its file keys derive from
    key: str
    jobs: list[jobs_mod.Job] = field(default_factory=list)
    store: cache_mod.FileResultCache | None = None
    file_keys: dict[str, str] = field(default_factory=dict)
    cached: dict[str, list[Finding]] = field(default_factory=dict)
    has_units: bool = False
    #: findings and notes of the units read from the cache
    unit_results: list[tuple[list[Finding], list[ScanNote]]] = field(default_factory=list)


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
            hashes = cache_mod.FileHashes(self.settings.root)
            workers = max(1, min(self.settings.jobs, len(todo)))
            with ThreadPoolExecutor(max_workers=workers) as pool:
                plans = list(pool.map(lambda t: self._prepare(t[0], t[1], t[2], hashes), todo))
            ready = [p for p in plans if p is not None]
            jobs_mod.run_all([j for p in ready for j in p.jobs], self.settings.jobs, self._work)
            for plan in ready:
                self._finish(plan)
        return runs

    def _prepare(
        self, scanner: Scanner, run: ScannerRun, applicable: list[Path], hashes: FileHashes
    ) -> _Plan | None:
        """Version check and cache look-up; the jobs left to run (None: nothing to run)."""
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
                return None
            material: dict[str, object] = {
                "scanner": scanner.name,
                "module": _module_digest(scanner),
                "version": run.version,
                "offline": self.settings.is_offline,
                "extra": scanner.cache_key_extra(),
                "inputs": {str(p): hashes.get(p) for p in scanner.config_inputs(root)},
            }
            if scanner.per_file:
                return self._prepare_per_file(scanner, run, applicable, hashes, material)
            units = scanner.units(root, applicable)
            if units is not None:
                return self._prepare_units(scanner, run, applicable, units, hashes, material)
            material["files"] = {p.as_posix(): hashes.get(p) for p in applicable}
            plan = _Plan(scanner, run, applicable, cache_mod.key(material))
            cached = self.cache.load(scanner.name, plan.key)
            if cached is not None:
                run.findings, run.notes = cached
                run.status = CACHED
                return None
            nbytes = sum(jobs_mod.file_size(root, p) for p in applicable)
            plan.jobs = [jobs_mod.Job(scanner, applicable, jobs_mod.estimate(scanner, nbytes))]
            self.progress(f"running {scanner.name} on {len(applicable)} file(s)")
            return plan
        except ShiprailError as exc:
            run.status, run.reason = CRASHED, exc.message
        except Exception as exc:  # a scanner module bug must not hide the other results
            run.status, run.reason = CRASHED, f"{type(exc).__name__}: {exc}"
        finally:
            run.seconds = time.monotonic() - started
        return None

    def _prepare_per_file(
        self,
        scanner: Scanner,
        run: ScannerRun,
        applicable: list[Path],
        hashes: FileHashes,
        material: dict[str, object],
    ) -> _Plan:
        plan = _Plan(scanner, run, applicable, cache_mod.key(material))
        plan.store = cache_mod.FileResultCache(
            self.cache.directory, scanner.name, self.settings.use_cache
        )
        missing = []
        for path in applicable:
            name = path.as_posix()
            plan.file_keys[name] = cache_mod.file_key(plan.key, name, hashes.get(path))
            found = plan.store.load(name, plan.file_keys[name])
            if found is None:
                missing.append(path)
            else:
                plan.cached[name] = found
        root = self.settings.root
        for batch, nbytes in jobs_mod.batches(root, scanner, missing):
            plan.jobs.append(jobs_mod.Job(scanner, batch, jobs_mod.estimate(scanner, nbytes)))
        if missing:
            self.progress(f"running {scanner.name} on {len(missing)} of {len(applicable)} file(s)")
        return plan

    def _prepare_units(
        self,
        scanner: Scanner,
        run: ScannerRun,
        applicable: list[Path],
        units: list[Unit],
        hashes: FileHashes,
        material: dict[str, object],
    ) -> _Plan:
        """One job per unit not in the cache; a unit is keyed by the files it reads."""
        plan = _Plan(scanner, run, applicable, cache_mod.key(material), has_units=True)
        for unit in units:
            reads = {p.as_posix(): hashes.get(p) for p in unit.reads}
            unit_key = cache_mod.key({"scanner": plan.key, "unit": unit.name, "files": reads})
            cached = self.cache.load(f"{scanner.name}/{unit.name}", unit_key)
            if cached is not None:
                plan.unit_results.append(cached)
                continue
            job = jobs_mod.Job(scanner, list(unit.reads), unit.estimate, unit=unit, key=unit_key)
            plan.jobs.append(job)
        if plan.jobs:
            names = ", ".join(j.unit.name for j in plan.jobs if j.unit)
            self.progress(f"running {scanner.name}: {names}")
        return plan

    def _work(self, job: jobs_mod.Job) -> None:
        started = time.monotonic()
        try:
            secret = job.scanner.category == Category.secrets
            if job.unit is not None:
                found = job.scanner.scan_unit(self.settings.root, job.unit)
                job.notes = list(job.scanner.notes())
            else:
                found = job.scanner.scan(self.settings.root, job.files)
            found = [self._complete(f, secret=secret) for f in found]
            job.findings = [f for f in found if not self._ignored(f.path)]
        except ShiprailError as exc:
            job.error = exc.message
        except Exception as exc:  # a scanner module bug must not hide the other results
            job.error = f"{type(exc).__name__}: {exc}"
        finally:
            job.seconds = time.monotonic() - started

    def _finish(self, plan: _Plan) -> None:
        """Merge the jobs' findings with the cached ones and store what ran."""
        run, scanner = plan.run, plan.scanner
        run.seconds += sum(j.seconds for j in plan.jobs)
        run.scanned = sum(len(j.files) for j in plan.jobs)
        errors = [j.error for j in plan.jobs if j.error]
        if plan.store is not None:
            self._finish_per_file(plan)
        elif plan.has_units:
            self._finish_units(plan)
        elif not errors:
            run.findings = plan.jobs[0].findings if plan.jobs else []
            run.notes = list(scanner.notes())
            self.cache.store(scanner.name, plan.key, run.findings, run.notes)
        if errors:
            run.status, run.reason = CRASHED, errors[0]
        else:
            run.status = RAN if plan.jobs else CACHED

    def _finish_units(self, plan: _Plan) -> None:
        results = list(plan.unit_results)
        for job in plan.jobs:
            if job.error is None and job.unit is not None:
                where = f"{plan.scanner.name}/{job.unit.name}"
                self.cache.store(where, job.key, job.findings, job.notes)
                results.append((job.findings, job.notes))
        found = [f for findings, _notes in results for f in findings]
        # the order one run over every unit gives (stable: ties keep the unit's order)
        found.sort(key=lambda f: (-f.severity.rank, f.path, f.start_line, f.message))
        plan.run.findings = found
        plan.run.notes = list(dict.fromkeys(n for _findings, notes in results for n in notes))

    def _finish_per_file(self, plan: _Plan) -> None:
        store = plan.store
        if store is None:
            return
        by_path: dict[str, list[Finding]] = dict(plan.cached)
        strays: list[Finding] = []
        for job in plan.jobs:
            if job.error:
                continue
            names = {p.as_posix() for p in job.files}
            grouped: dict[str, list[Finding]] = {name: [] for name in names}
            for finding in job.findings:
                grouped.setdefault(finding.path, []).append(finding)
            stray = set(grouped) - names
            for name in names:
                by_path[name] = grouped[name]
                if not stray:  # a tool that reports other files than asked is not cached
                    store.store(name, plan.file_keys[name], grouped[name])
            strays += [f for name in sorted(stray) for f in grouped[name]]
        order = [p.as_posix() for p in plan.applicable]
        plan.run.findings = [f for name in order for f in by_path.get(name, [])] + strays
        plan.run.notes = list(plan.scanner.notes()) if plan.jobs else []
        if not self.settings.changed_since:
            store.keep_only(set(order))
        store.save()

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
