"""The states a release and a deploy attempt go through, and the actions an attempt records.

They are stored in the ledger and printed by ``status`` and ``history`` as their string
values, so a ``StrEnum`` member and the text in the database are the same thing.
"""

from __future__ import annotations

from enum import StrEnum


class ReleaseState(StrEnum):
    """Where a release stands in its environment."""

    #: being rolled out
    pending = "pending"
    #: serving
    live = "live"
    #: replaced by a newer release; its containers are kept for an instant rollback
    retired = "retired"
    #: never served, or rolled back automatically
    failed = "failed"
    #: replaced by ``shiprail rollback``
    rolled_back = "rolled_back"
    #: never started: its image failed verification (signature, provenance, scan)
    refused = "refused"


#: States in which a release no longer serves (the ledger stamps ``ended_at``).
ENDED = frozenset(
    {ReleaseState.retired, ReleaseState.failed, ReleaseState.rolled_back, ReleaseState.refused}
)
#: States of a release that once served and can be rolled back to.
RETAINED = (ReleaseState.retired, ReleaseState.rolled_back)


class AttemptState(StrEnum):
    """The outcome of one deploy, promotion or rollback; ``intent`` until it is known."""

    intent = "intent"
    succeeded = "succeeded"
    failed = "failed"
    #: the process ended before writing the outcome (closed by the next run)
    interrupted = "interrupted"
    #: a promotion refused until someone approves the release
    awaiting_approval = "awaiting-approval"
    #: a canary stopped by its analysis or by ``shiprail abort`` (a change failure for DORA)
    aborted = "aborted"
    #: the image failed verification before anything started; nothing changed
    refused = "refused"


class Action(StrEnum):
    """What an attempt tried to do."""

    deploy = "deploy"
    promote = "promote"
    rollback = "rollback"
