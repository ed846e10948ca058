"""Result cache: one entry per scanner, keyed by everything that can change its output.

The key hashes the scanner's name and module revision, the tool's version, the settings
that change results (rules, offline mode, advisory data), and the content of every file the
scanner reads. A re-run with nothing changed reads the entry instead of running the tool;
changing a scanned file, the configuration or the tool version gives a new key.
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
CACHE_FORMAT = 2


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
        tmp = folder / f".{cache_key}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(body), encoding="utf-8")
        tmp.replace(self._path(scanner, cache_key))


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
