"""``tools.lock``: the pinned external tools, and ``shiprail doctor`` which checks them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from shiprail import _subprocess
from shiprail.errors import ConfigError, ShiprailError, ToolError
from shiprail.paths import TOOLS_LOCK, platform_home, repo_root

KINDS = ("apt", "pypi", "go", "k8s", "system")
NEEDS = ("required", "optional")
_VERSION = re.compile(r"v?(\d+(?:\.\d+)+)")

#: How to ask a binary for its version when ``--version`` is not the way.
VERSION_ARGS: dict[str, tuple[str, ...]] = {
    "dockerd": ("--version",),
    "helm": ("version", "--short"),
    "opa": ("version",),
    "gitleaks": ("version",),
    "pg_ctlcluster": ("--version",),
    "wrk": ("-v",),
    "nginx": ("-v",),
    "debootstrap": ("--version",),
    "kubernetes-validate": ("--version",),
    "openssl": ("version",),
    "terraform": ("version",),
}
#: Binaries whose version is best read from the Debian package (they print none themselves).
DPKG_VERSION = {
    "pg_ctlcluster": "postgresql",
    "debootstrap": "debootstrap",
    "htpasswd": "apache2-utils",  # prints no version of its own
}


@dataclass(frozen=True)
class Tool:
    name: str
    kind: str
    version: str
    source: str
    binary: str
    required: bool

    def install_command(self) -> str:
        """The exact command that installs this tool, for a human to paste."""
        if self.kind == "apt":
            return f"apt-get install -y {self.source}"
        if self.kind == "pypi":
            return f"scripts/install-tools.sh {self.name}  # {self.source}=={self.version}"
        if self.kind == "system":
            # a machine prerequisite, installed outside scripts/install-tools.sh
            return f"install {self.name} {self.version} on this machine (not by install-tools.sh)"
        if self.kind == "k8s":
            return (
                f"scripts/install-tools.sh {self.name}  # builds {self.source}@{self.version} "
                f"into .tools/k8s/{self.version}/bin"
            )
        # the script applies the build environment some tools need (#@goenv in tools.lock)
        return f"scripts/install-tools.sh {self.name}  # go install {self.source}@{self.version}"


@dataclass(frozen=True)
class ToolStatus:
    tool: Tool
    found: str | None  # the version found, None when missing
    path: str | None

    @property
    def ok(self) -> bool:
        return self.found is not None and version_matches(self.found, self.tool.version)


def version_matches(found: str, pinned: str) -> bool:
    """True when the found version starts with the pinned one (``15.18`` matches ``15``)."""
    found_parts = found.lstrip("v").split(".")
    pinned_parts = pinned.lstrip("v").split(".")
    return found_parts[: len(pinned_parts)] == pinned_parts


def load_lock(path: Path | None = None) -> list[Tool]:
    """Parse tools.lock; a malformed line is a ConfigError naming the line.

    The default is the lock of the repository around the working directory, else the lock of
    the shiprail checkout that installed the tools (so ``doctor`` works from any folder)."""
    if path is None:
        path = repo_root() / TOOLS_LOCK
        if not path.is_file():
            path = platform_home() / TOOLS_LOCK
    if not path.is_file():
        raise ConfigError("tools.lock not found", path=str(path), hint="run from the repository")
    tools = []
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        fields = line.split()
        if len(fields) != 6:
            raise ConfigError(
                f"expected 6 fields (name kind version source binary need), found {len(fields)}",
                path=path.name,
                line=number,
            )
        name, kind, version, source, binary, need = fields
        if kind not in KINDS:
            raise ConfigError(
                f"kind must be one of {', '.join(KINDS)}", path=path.name, line=number
            )
        if need not in NEEDS:
            raise ConfigError(
                f"need must be one of {', '.join(NEEDS)}", path=path.name, line=number
            )
        tools.append(Tool(name, kind, version, source, binary, need == "required"))
    return tools


def _dpkg_version(package: str) -> str | None:
    try:
        result = _subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", package], timeout=20, ok_codes=None
        )
    except ShiprailError:
        return None
    match = re.match(r"(\d+(?:\.\d+)*)", result.stdout.split(":", 1)[-1])
    return match.group(1) if result.returncode == 0 and match else None


def _go_module_version(path: str) -> str | None:
    """The main module's version recorded in a Go binary (``go version -m``).

    Binaries built with ``go install`` do not always print their release (Helm says
    ``v3.22`` without link flags), but the build info always names the module version.
    """
    try:
        result = _subprocess.run(["go", "version", "-m", path], timeout=30, ok_codes=None)
    except ShiprailError:
        return None
    for line in result.stdout.splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[0] == "mod":
            return fields[2].lstrip("v")
    return None


def _pypi_version(path: str, distribution: str) -> str | None:
    """The installed distribution's version, asked of the tool's own venv.

    Faster and exacter than ``--version`` (semgrep's checks the network for updates).
    """
    python = Path(path).resolve().parent / "python"
    if not python.exists():
        return None
    code = f"import importlib.metadata as m; print(m.version({distribution!r}))"
    try:
        result = _subprocess.run([str(python), "-c", code], timeout=30, ok_codes=None)
    except ShiprailError:
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def _k8s_binary(tool: Tool) -> str | None:
    """Kubernetes components live per version in ``.tools/k8s/<version>/bin`` (several
    versions side by side, none on PATH)."""
    path = platform_home() / ".tools" / "k8s" / tool.version / "bin" / tool.binary
    return str(path) if path.is_file() else None


def probe(tool: Tool) -> ToolStatus:
    """Find the tool's binary and read its version."""
    if tool.binary == "-":  # a package of files, not of a command (CNI plugins)
        found = _dpkg_version(tool.source) if tool.kind == "apt" else None
        return ToolStatus(tool, found, None if found is None else tool.source)
    path = _k8s_binary(tool) if tool.kind == "k8s" else _subprocess.which(tool.binary)
    if path is None:
        return ToolStatus(tool, None, None)
    if tool.binary in DPKG_VERSION:
        return ToolStatus(tool, _dpkg_version(DPKG_VERSION[tool.binary]) or "unknown", path)
    if tool.kind == "go" and (module_version := _go_module_version(path)):
        return ToolStatus(tool, module_version, path)
    if tool.kind == "pypi" and (dist_version := _pypi_version(path, tool.source)):
        return ToolStatus(tool, dist_version, path)
    args = VERSION_ARGS.get(tool.binary, ("--version",))
    try:
        result = _subprocess.run([path, *args], timeout=60, ok_codes=None)
    except ShiprailError:
        return ToolStatus(tool, "unknown", path)
    match = _VERSION.search(result.stdout + "\n" + result.stderr)
    return ToolStatus(tool, match.group(1) if match else "unknown", path)


def doctor(tools: list[Tool]) -> list[ToolStatus]:
    return [probe(tool) for tool in tools]


def require_ready(statuses: list[ToolStatus]) -> None:
    """Raise :class:`ToolError` (exit 3) naming every required tool missing or at another
    version than ``tools.lock`` pins; optional tools never fail the check."""
    missing = [s.tool.name for s in statuses if s.tool.required and not s.ok]
    if missing:
        raise ToolError(f"{len(missing)} required tool(s) missing or wrong: {', '.join(missing)}")
