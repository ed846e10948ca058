"""``workorders`` command: migrate the database, serve the API, hash a token."""

from __future__ import annotations

import argparse
import getpass
import hashlib
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from workorders import workers
from workorders.settings import SettingsError, load_settings

#: Overrides the worker count (``--workers`` wins over it).
WORKERS_ENV = "WORKORDERS_WORKERS"


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a positive number")
    return number


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


def worker_count(requested: int | None) -> int:
    """``--workers``, else ``WORKORDERS_WORKERS``, else one per CPU of the cgroup limit."""
    if requested is not None:
        return requested
    configured = os.environ.get(WORKERS_ENV, "").strip()
    if not configured:
        return workers.default_workers()
    try:
        count = int(configured)
    except ValueError:
        count = 0
    if count < 1:
        raise SettingsError(
            f"{WORKERS_ENV}={configured!r} is not a positive number of workers: "
            "unset it to use one worker per CPU of the container's limit"
        )
    return count


@contextmanager
def _shared_metrics(count: int) -> Iterator[None]:
    """With several workers, a private, empty multiprocess metrics directory for this run."""
    if count < 2:
        yield
        return
    try:
        directory = Path(tempfile.mkdtemp(prefix="workorders-metrics-"))
    except OSError as exc:
        raise SettingsError(
            f"{count} workers need a writable temporary directory for their shared metrics "
            f"({tempfile.gettempdir()}: {exc.strerror}): mount one (a tmpfs on /tmp) "
            "or serve with --workers 1"
        ) from None
    workers.prepare_multiprocess_directory(directory)
    os.environ[workers.MULTIPROC_ENV] = str(directory)
    try:
        yield
    finally:
        os.environ.pop(workers.MULTIPROC_ENV, None)
        shutil.rmtree(directory, ignore_errors=True)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = load_settings()  # fail here, with a clear message, before uvicorn starts
    count = worker_count(args.workers)
    if args.migrate:
        from workorders import migrate

        migrate.upgrade(settings.database_url)
    print(f"workorders: serving with {count} worker(s)", file=sys.stderr)
    with _shared_metrics(count):
        uvicorn.run(
            "workorders.main:create_app",
            factory=True,
            host=args.host,
            port=args.port,
            workers=count,
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
    serve.add_argument(
        "--workers",
        type=_positive,
        default=None,
        help=f"worker processes (default: ${WORKERS_ENV}, else one per CPU of the limit)",
    )
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
