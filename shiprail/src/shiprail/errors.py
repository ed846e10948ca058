"""The exception tree and the exit codes it maps to (ARCHITECTURE.md, "Contracts").

    ShiprailError                      exit 1 unless a subclass says otherwise
    ├── Refused                        exit 1  the gate or the deploy said no
    │   ├── GateFailed                         blocking findings (scan, image, k8s)
    │   ├── LockHeld                           another deploy holds the environment's lock
    │   └── DeployFailed                       failed health/smoke, rolled back
    │       └── WatchFailed                    misbehaved after the switch, rolled back
    ├── UsageError                     exit 2  bad arguments or configuration
    │   └── ConfigError                        shiprail.yaml and other config files (file:line)
    ├── ToolError                      exit 3  a required tool or service
    │   ├── ToolMissing                        is not installed (says how to install it)
    │   └── ToolCrashed                        ran but failed or timed out
    └── ApprovalPending                exit 4  waiting for an approval

    any other exception                exit 3  a bug or an untranslated library error:
                                               one line, the traceback only with --debug

Third-party exceptions are translated into this tree at one boundary each (the subprocess
wrapper, the Docker boundary ``_docker``, the ledger) with ``raise ... from exc``; one
translator in the CLI (``shiprail.cli._app.report``) maps the tree to exit codes and prints
the message, never a traceback. Engine functions return results on success and raise on any
other outcome: no function returns an exit code.
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


class LockHeld(Refused):
    """Another deploy holds the environment's lock (``--wait`` queues behind it)."""


class DeployFailed(Refused):
    """A release did not become healthy or was rolled back."""


class WatchFailed(DeployFailed):
    """The release misbehaved after the switch; the cause goes to the ledger as a rollback."""


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
