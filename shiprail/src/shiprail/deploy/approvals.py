"""Approvals: promotion into a guarded environment (stage, prod) needs a named person's yes.

An approval names the environment and the exact release (so approving one build never lets
another through), who gave it, when and why; it is stored in the ledger and shown by
``shiprail history``.
"""

from __future__ import annotations

import getpass

from shiprail.deploy.ledger import Ledger
from shiprail.deploy.records import Approval, Release
from shiprail.deploy.states import ReleaseState
from shiprail.errors import ApprovalPending, UsageError
from shiprail.settings import get_settings


def current_actor() -> str:
    """Who is acting: ``SHIPRAIL_ACTOR``, the CI's user (``GITHUB_ACTOR``), else the login."""
    settings = get_settings()
    if value := settings.actor or settings.github_actor:
        return value[:128]
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def approve(
    ledger: Ledger, environment: str, release_id: str, approver: str, reason: str
) -> Approval:
    if not reason.strip():
        raise UsageError("an approval needs a reason", hint="--reason 'why this release may go'")
    release = ledger.release(release_id)
    if release is None:
        raise UsageError(
            f"release '{release_id}' is not in the ledger",
            hint="shiprail status shows the release running in each environment",
        )
    if release.status in (ReleaseState.failed, ReleaseState.refused):
        raise UsageError(
            f"release '{release_id}' {release.status} in {release.environment}; "
            "it cannot be approved"
        )
    return ledger.approve(
        environment=environment, release_id=release_id, approver=approver, reason=reason
    )


def require_approval(ledger: Ledger, environment: str, release: Release) -> Approval:
    """The approval for promoting ``release`` into ``environment``, or exit 4 saying how."""
    found = ledger.approval(environment, release.id)
    if found is None:
        raise ApprovalPending(
            f"promoting release {release.id} into {environment} is waiting for an approval",
            hint=f"shiprail approve {environment} {release.id} --reason '...' , then run the "
            "promotion again",
        )
    return found
