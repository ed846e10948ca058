"""Result caches, keyed by everything that can change a scanner's output.

Every key hashes the scanner's name and module revision, the tool's version, the settings
that change results (rules, offline mode, advisory data) and the content of what was read.

- :class:`ResultCache`: one entry per scanner, for checks that read many files at once
  (dependency audit, Kubernetes render, checkov): a change to any file it reads re-runs it.
- :class:`FileResultCache`: one entry per file, for scanners whose findings in a file
  depend on that file alone (bandit, semgrep, detect-secrets, gitleaks on the working tree,
  hadolint, shellcheck, actionlint): changing one line of one file re-scans that file only.

An entry is trusted only when it was written under the very key the run computes, and every
finding in it has the expected shape (and, per file, the expected tool and path); anything
else - a truncated file, another version's format, an entry copied from elsewhere - is a
miss, so the file is scanned again.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import asdict
from pathlib import Path
from typing import Any

from shiprail.findings import Category, Finding, Rule, Severity
from shiprail.scan.scanners.interface import ScanNote

#: bump when the cached shape changes
CACHE_FORMAT = 3


class FileHashes:
    """sha256 of file contents, computed once per run and shared by all scanners."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._hashes: dict[str, str] = {}
        self._lock = threading.Lock()

    def get(self, path: Path) -> str:
        full = path if path.is_absolute() else self.root / path
        key = str(full)
        with self._lock:
            if key in self._hashes:
                return self._hashes[key]
        digest = hashlib.sha256()
        try:
            if full.is_dir():
                for child in sorted(full.rglob("*")):
                    if child.is_file():
                        digest.update(child.relative_to(full).as_posix().encode())
                        digest.update(child.read_bytes())
            else:
                digest.update(full.read_bytes())
            value = digest.hexdigest()
        except OSError:
            value = "unreadable"
        with self._lock:
            self._hashes[key] = value
        return value


def key(material: dict[str, Any]) -> str:
    text = json.dumps({"format": CACHE_FORMAT, **material}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _finding_to_dict(f: Finding) -> dict[str, Any]:
    data = asdict(f)
    data["severity"] = f.severity.value
    data["category"] = f.category.value if f.category else None
    return data


def _finding_from_dict(data: dict[str, Any]) -> Finding:
    return Finding(
        tool=data["tool"],
        rule=Rule(**data["rule"]),
        severity=Severity(data["severity"]),
        message=data["message"],
        path=data["path"],
        start_line=data["start_line"],
        end_line=data["end_line"],
        snippet=data["snippet"],
        properties=dict(data["properties"]),
        category=Category(data["category"]) if data.get("category") else None,
    )


def _write_atomically(path: Path, body: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp"
    tmp.write_text(json.dumps(body, separators=(",", ":")), encoding="utf-8")
    tmp.replace(path)


class ResultCache:
    def __init__(self, directory: Path, enabled: bool = True) -> None:
        self.directory = directory
        self.enabled = enabled

    def _path(self, scanner: str, cache_key: str) -> Path:
        return self.directory / scanner / f"{cache_key}.json"

    def load(self, scanner: str, cache_key: str) -> tuple[list[Finding], list[ScanNote]] | None:
        if not self.enabled:
            return None
        path = self._path(scanner, cache_key)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            findings = [_finding_from_dict(item) for item in data["findings"]]
            notes = [ScanNote(**item) for item in data["notes"]]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return findings, notes

    def store(
        self, scanner: str, cache_key: str, findings: list[Finding], notes: list[ScanNote]
    ) -> None:
        if not self.enabled:
            return
        folder = self.directory / scanner
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.json"):  # one entry per scanner keeps the cache small
            old.unlink(missing_ok=True)
        body = {
            "findings": [_finding_to_dict(f) for f in findings],
            "notes": [asdict(n) for n in notes],
        }
        _write_atomically(self._path(scanner, cache_key), body)


def file_key(scanner_key: str, path: str, digest: str) -> str:
    """The key of one file's entry: the scanner's key, the file's path and its content."""
    return key({"scanner": scanner_key, "path": path, "digest": digest})


class FileResultCache:
    """Per-file findings of one scanner, in one JSON file (``files/<scanner>.json``): path ->
    the entry's key and the findings in that file. One entry per path, so the cache holds
    what the tree looks like now, not every version ever scanned."""

    def __init__(self, directory: Path, scanner: str, enabled: bool = True) -> None:
        self.path = directory / "files" / f"{scanner}.json"
        self.scanner = scanner
        self.enabled = enabled
        self._entries: dict[str, dict[str, Any]] = {}
        self._dirty = False
        if enabled:
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
                if data.get("format") == CACHE_FORMAT and isinstance(data.get("entries"), dict):
                    self._entries = data["entries"]
            except (OSError, ValueError, AttributeError):
                self._entries = {}

    def load(self, path: str, entry_key: str) -> list[Finding] | None:
        """The findings stored for ``path`` under ``entry_key``; None for a miss."""
        entry = self._entries.get(path)
        if not isinstance(entry, dict) or entry.get("key") != entry_key:
            return None
        try:
            findings = [_finding_from_dict(item) for item in entry["findings"]]
        except (ValueError, KeyError, TypeError, AttributeError):
            return None
        if any(f.path != path or f.tool != self.scanner for f in findings):
            return None  # not what this scanner found in this file: never trusted
        return findings

    def store(self, path: str, entry_key: str, findings: list[Finding]) -> None:
        self._entries[path] = {
            "key": entry_key,
            "findings": [_finding_to_dict(f) for f in findings],
        }
        self._dirty = True

    def keep_only(self, paths: set[str]) -> None:
        """Forget files no longer in the tree (after a run over the whole tree)."""
        for gone in set(self._entries) - paths:
            del self._entries[gone]
            self._dirty = True

    def save(self) -> None:
        if self.enabled and self._dirty:
            _write_atomically(self.path, {"format": CACHE_FORMAT, "entries": self._entries})
            self._dirty = False


class VersionCache:
    """Tool versions by binary identity (real path, size, mtime), so a warm run does not
    start every tool just to ask its version, yet an upgrade is noticed."""

    def __init__(self, path: Path, enabled: bool = True) -> None:
        self.path = path
        self.enabled = enabled
        self._lock = threading.Lock()
        self._data: dict[str, str] = {}
        if enabled:
            try:
                self._data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                self._data = {}

    @staticmethod
    def identity(binary_path: str) -> str:
        real = os.path.realpath(binary_path)
        stat = os.stat(real)
        return f"{real}:{stat.st_size}:{stat.st_mtime_ns}"

    def get(self, identity: str) -> str | None:
        with self._lock:
            return self._data.get(identity)

    def put(self, identity: str, version: str) -> None:
        if not self.enabled:
            return
        with self._lock:
            self._data[identity] = version
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(self._data, indent=1), encoding="utf-8")
            tmp.replace(self.path)
