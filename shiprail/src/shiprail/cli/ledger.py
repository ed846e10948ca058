"""`shiprail ledger backup|restore`: the release ledger as one checksummed file, and back.

The ledger is the database ``SHIPRAIL_DATABASE_URL`` names (SQLite in the state directory by
default); ``docs/disaster-recovery.md`` says when to run these and how to drill a restore.
A restore that would replace records needs ``--force`` on the command line: unlike other
options it is not read from the environment, so no exported variable can make a restore
overwrite a ledger unasked.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from shiprail import output
from shiprail.cli._app import JsonOption, app, report

if TYPE_CHECKING:
    from shiprail.deploy.backup import BackupDone, RestoreDone

ledger_app = typer.Typer(help="Back up and restore the release ledger (SQLite or PostgreSQL).")
app.add_typer(ledger_app, name="ledger")


def default_output(directory: Path, now: datetime | None = None) -> Path:
    """``<directory>/ledger-<UTC time>.tar``, a name not yet taken (numbered when it is), so
    a scheduled backup never overwrites an earlier one."""
    stamp = f"{(now or datetime.now(UTC)):%Y%m%dT%H%M%SZ}"
    path, count = directory / f"ledger-{stamp}.tar", 1
    while path.exists():
        count += 1
        path = directory / f"ledger-{stamp}-{count}.tar"
    return path


def _backup(target: Path | None) -> BackupDone:
    from shiprail.deploy import backup as backups
    from shiprail.deploy.settings import default_database_url, state_dir

    if target is None:
        target = default_output(state_dir() / "backups")
    elif target.is_dir():
        target = default_output(target)
    return backups.backup(default_database_url(), target)


@ledger_app.command("backup")
def backup(
    target: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            envvar="SHIPRAIL_OUTPUT",
            help="Backup file, or a directory for a fresh name "
            "(default: <state>/backups/ledger-<UTC time>.tar).",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Copy the ledger into one file (mode 0600); deploys may go on meanwhile."""
    done = report(lambda: _backup(target))
    if as_json:
        output.emit_json(done.as_json())
        return
    revision = done.manifest.schema_revision or "no schema"
    output.say(f"backed up the ledger {done.ledger} ({revision}) to {done.path}")
    output.emit(str(done.path))


def _restore(archive: Path, force: bool) -> RestoreDone:
    from shiprail.deploy import backup as backups
    from shiprail.deploy.settings import default_database_url

    return backups.restore(default_database_url(), archive, force=force)


@ledger_app.command("restore")
def restore(
    archive: Annotated[
        Path, typer.Argument(metavar="FILE", help="A file made by `shiprail ledger backup`.")
    ],
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Replace a ledger that holds records (a SQLite one is kept as "
            "<db>.before-restore). Not read from the environment.",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Replace the ledger with a backup, after checking it, then migrate it to this schema."""
    done = report(lambda: _restore(archive, force))
    if as_json:
        output.emit_json(done.as_json())
        return
    revisions = f"{done.restored_revision or 'no schema'} -> {done.schema_revision}"
    output.say(f"restored the ledger {done.ledger} from {done.path} ({revisions})")
    if done.previous is not None:
        output.say(f"the ledger it replaced is kept as {done.previous}")
