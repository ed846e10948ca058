"""``shiprail console``: the web console, and ``shiprail console users add|remove|list``, its
accounts (roles viewer, approver, deployer, admin).

The console reads the same ledger as every other command (``SHIPRAIL_DATABASE_URL``) and the
reports ``shiprail scan`` writes; docs/console.md explains sign-in, roles and four eyes.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from shiprail import output
from shiprail.cli._app import JsonOption, app, report
from shiprail.errors import UsageError

if TYPE_CHECKING:
    from shiprail.config import ShiprailConfig
    from shiprail.console.edge import Published
    from shiprail.console.store import ConsoleStore

console_app = typer.Typer(
    help="The web console: releases, approvals, findings and DORA figures in a browser.",
    invoke_without_command=True,
)
app.add_typer(console_app, name="console")
users_app = typer.Typer(help="Console accounts: add, remove, list.", no_args_is_help=True)
console_app.add_typer(users_app, name="users")
ROLES = ("viewer", "approver", "deployer", "admin")


@console_app.callback()
def console(
    ctx: typer.Context,
    host: Annotated[
        str | None,
        typer.Option("--host", envvar="SHIPRAIL_HOST", help="Address (default console.host)."),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option("--port", envvar="SHIPRAIL_PORT", help="Port (default console.port, 8090)."),
    ] = None,
    reports_dir: Annotated[
        Path | None,
        typer.Option("--reports-dir", envvar="SHIPRAIL_REPORTS_DIR", help="Default: reports/."),
    ] = None,
) -> None:
    """Serve the console (loopback only, unless TLS or the edge protect it)."""
    if ctx.invoked_subcommand is not None:
        return

    def body() -> None:
        from shiprail.config import load_config
        from shiprail.console.app import create_app
        from shiprail.console.server import serve, uvicorn_options
        from shiprail.deploy.platform import docker_platform
        from shiprail.deploy.runtime import open_ledger
        from shiprail.deploy.settings import state_dir
        from shiprail.observe.dora.commits import GitCommitTimes
        from shiprail.paths import repo_root

        config = load_config()
        root = repo_root()
        listen_port = port or config.console.port
        listen, published = _listen(config, host, listen_port, root)
        platform = docker_platform(root, state_dir())
        oidc = None
        if config.console.oidc is not None:
            import os

            from shiprail.console.oidc import OidcClient

            oidc = OidcClient(config.console.oidc, os.environ)
        application = create_app(
            config,
            open_ledger(),
            reports=reports_dir or root / "reports",
            root=root,
            commit_times=GitCommitTimes(root),
            target=platform.target,
            https=config.console.tls or published is not None,
            oidc=oidc,
        )
        if published is None:
            scheme = "https" if config.console.tls else "http"
            output.say(f"console on {scheme}://{listen}:{listen_port}/ (Ctrl-C stops)")
        else:
            output.say(f"console on {published.url} through the edge (Ctrl-C stops)")
        try:
            trusted = published.subnet if published else None
            serve(application, uvicorn_options(config.console, listen, listen_port, root, trusted))
        finally:
            if published is not None:
                published.withdraw()

    report(body)


def _listen(
    config: ShiprailConfig, host: str | None, port: int, root: Path
) -> tuple[str, Published | None]:
    """Where the console listens: ``--host`` or ``console.host`` (checked: loopback unless
    TLS), or, with ``console.edge``, the gateway of its network, its site written on the edge."""
    from shiprail.console.server import check_listen

    edge = config.console.edge
    if edge is None:
        listen = host or config.console.host
        check_listen(config.console, listen, root)
        return listen, None
    if host is not None:
        raise UsageError(
            "--host does not apply when console.edge publishes the console: it listens on "
            "the edge network's gateway",
            hint="drop --host (and SHIPRAIL_HOST), or remove console.edge from shiprail.yaml",
        )
    from shiprail._docker import docker_client
    from shiprail.console.edge import publish
    from shiprail.deploy.settings import state_dir

    published = publish(docker_client(), edge, port, state_dir())
    check_listen(config.console, published.host, root, published=True)
    return published.host, published


def _store() -> ConsoleStore:
    from shiprail.console.store import ConsoleStore
    from shiprail.deploy.runtime import open_ledger

    return ConsoleStore(open_ledger())


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    if not sys.stdin.isatty():
        raise UsageError(
            "no terminal to ask for the password", hint="pipe it in with --password-stdin"
        )
    value: str = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    return value


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="Account name (the ledger records it).")],
    role: Annotated[
        str, typer.Option("--role", envvar="SHIPRAIL_ROLE", help=f"One of {', '.join(ROLES)}.")
    ] = "viewer",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Add an account; the password is asked for (or read from stdin) and kept as an argon2
    hash."""

    def body() -> None:
        from shiprail.console.auth import hash_password
        from shiprail.console.store import Role
        from shiprail.deploy.approvals import current_actor

        if role not in ROLES:
            raise UsageError(f"unknown role '{role}'", hint=f"--role {' | '.join(ROLES)}")
        store = _store()
        account = store.add_user(
            username, hash_password(_read_password(password_stdin)), Role(role)
        )
        store.record(current_actor(), "user-add", detail=f"{account.username} as {account.role}")
        output.say(f"account {account.username} added as {account.role}")

    report(body)


@users_app.command("remove")
def users_remove(username: Annotated[str, typer.Argument(help="Account to remove.")]) -> None:
    """Remove an account and end its sessions."""

    def body() -> None:
        from shiprail.deploy.approvals import current_actor

        store = _store()
        if not store.remove_user(username):
            raise UsageError(f"no account '{username[:64]}'", hint="shiprail console users list")
        store.record(current_actor(), "user-remove", detail=username)
        output.say(f"account {username} removed; its sessions ended")

    report(body)


@users_app.command("list")
def users_list(as_json: JsonOption = False) -> None:
    """The accounts and their roles."""

    def body() -> None:
        accounts = _store().list_users()
        if as_json:
            output.emit_json(
                [
                    {
                        "username": a.username,
                        "role": a.role.value,
                        "created_at": a.created_at.isoformat(),
                    }
                    for a in accounts
                ]
            )
            return
        for a in accounts:
            output.emit(f"{a.username:<24} {a.role.value:<9} since {a.created_at:%Y-%m-%d}")
        if not accounts:
            output.say("no accounts yet: shiprail console users add NAME --role approver")

    report(body)
