"""``workorders`` command: migrate the database, serve the API, hash a token."""

from __future__ import annotations

import argparse
import getpass
import hashlib
import sys

from workorders.settings import SettingsError, load_settings


def _migrate(args: argparse.Namespace) -> int:
    from workorders import migrate

    settings = load_settings()
    if args.downgrade:
        migrate.downgrade(settings.database_url, args.downgrade)
    else:
        migrate.upgrade(settings.database_url, args.revision)
    print(
        f"database at revision {migrate.current_revision(settings.database_url)}", file=sys.stderr
    )
    return 0


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = load_settings()  # fail here, with a clear message, before uvicorn starts
    if args.migrate:
        from workorders import migrate

        migrate.upgrade(settings.database_url)
    uvicorn.run(
        "workorders.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        proxy_headers=True,
        forwarded_allow_ips=args.forwarded_allow_ips,
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=args.graceful_timeout,
    )
    return 0


def _hash_token(_: argparse.Namespace) -> int:
    token = sys.stdin.readline().strip() if not sys.stdin.isatty() else getpass.getpass("token: ")
    if not token:
        print("error: empty token; pipe the token on stdin", file=sys.stderr)
        return 2
    print(hashlib.sha256(token.encode()).hexdigest())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="workorders", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    migrate = sub.add_parser("migrate", help="apply database migrations (default: to head)")
    migrate.add_argument("--revision", default="head")
    migrate.add_argument("--downgrade", metavar="REVISION", help="downgrade to REVISION")
    migrate.set_defaults(handler=_migrate)

    serve = sub.add_parser("serve", help="serve the API with uvicorn")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--migrate", action="store_true", help="migrate before serving")
    serve.add_argument("--forwarded-allow-ips", default="127.0.0.1")
    serve.add_argument("--graceful-timeout", type=int, default=20)
    serve.set_defaults(handler=_serve)

    hash_token = sub.add_parser("hash-token", help="print the SHA-256 of a token read from stdin")
    hash_token.set_defaults(handler=_hash_token)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except SettingsError as exc:
        print(f"workorders: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
