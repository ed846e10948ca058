"""The exception tree and the exit codes it maps to (ARCHITECTURE.md, "Contracts").

    ShiprailError                      exit 1 unless a subclass says otherwise
    ├── Refused                        exit 1  the gate or the deploy said no
    │   ├── GateFailed                         blocking findings
    │   └── DeployFailed                       failed health/smoke/watch, rolled back
    ├── UsageError                     exit 2  bad arguments or configuration
    │   └── ConfigError                        shiprail.yaml and other config files (file:line)
    ├── ToolError                      exit 3  a required tool or service
    │   ├── ToolMissing                        is not installed (says how to install it)
    │   └── ToolCrashed                        ran but failed or timed out
    └── ApprovalPending                exit 4  waiting for an approval

Third-party exceptions are translated into this tree at one boundary each (the subprocess
wrapper, the Docker target, the ledger) with ``raise ... from exc``; the CLI maps the tree to
exit codes and prints the message, never a traceback.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_TOOL = 3
EXIT_APPROVAL = 4


class ShiprailError(Exception):
    """Base of every error shiprail reports to the user."""

    exit_code = EXIT_REFUSED

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  hint: {self.hint}" if self.hint else self.message


class Refused(ShiprailError):
    exit_code = EXIT_REFUSED


class GateFailed(Refused):
    """The security gate found blocking findings."""


class DeployFailed(Refused):
    """A release did not become healthy or was rolled back."""


class UsageError(ShiprailError):
    exit_code = EXIT_USAGE


class ConfigError(UsageError):
    """A configuration file is invalid; the message names the file and line."""

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        hint: str | None = None,
    ) -> None:
        where = f"{path}:{line}: " if path and line else (f"{path}: " if path else "")
        super().__init__(f"{where}{message}", hint=hint)
        self.path = path
        self.line = line


class ToolError(ShiprailError):
    exit_code = EXIT_TOOL


class ToolMissing(ToolError):
    """A required external tool is not installed."""

    def __init__(self, tool: str, install: str) -> None:
        super().__init__(f"required tool '{tool}' is not installed", hint=f"install it: {install}")
        self.tool = tool
        self.install = install


class ToolCrashed(ToolError):
    """An external tool ran but failed unexpectedly or timed out."""


class ApprovalPending(ShiprailError):
    exit_code = EXIT_APPROVAL
