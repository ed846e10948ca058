"""Starting the console: the refusal to serve plain HTTP beyond loopback, and uvicorn.

Sign-in cookies and approvals must not cross a network in clear text: on any address other
than a loopback one, the console needs its own certificate (``console.tls_cert_file``) or to
be published through the nginx edge that terminates TLS for it (``console.edge``, see
:mod:`shiprail.console.edge`): then it listens on the edge network's gateway only.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

from shiprail.console.settings import ConsoleConfig
from shiprail.errors import UsageError


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_listen(config: ConsoleConfig, host: str, root: Path, *, published: bool = False) -> None:
    """Refuse (usage error, exit 2) a non-loopback address without TLS, unless ``published``
    through the edge (the address is then the edge network's gateway); check that the
    configured certificate files exist."""
    if config.tls:
        for value in (config.tls_cert_file, config.tls_key_file):
            assert value is not None
            if not _resolve(value, root).is_file():
                raise UsageError(
                    f"console: TLS file '{value}' does not exist",
                    hint="console.tls_cert_file / tls_key_file in shiprail.yaml name PEM files",
                )
        return
    if not is_loopback(host) and not published:
        raise UsageError(
            f"the console will not serve plain HTTP on {host}: sign-ins and approvals would "
            "cross the network in clear text",
            hint="use --host 127.0.0.1, set console.tls_cert_file and console.tls_key_file, "
            "or publish it through the edge (console.edge: hostname, port)",
        )


def _resolve(value: str, root: Path) -> Path:
    path = Path(value)
    return path if path.is_absolute() else root / path


def uvicorn_options(
    config: ConsoleConfig, host: str, port: int, root: Path, trusted_proxies: str | None = None
) -> dict[str, Any]:
    """uvicorn's settings: TLS when configured; ``trusted_proxies`` (the edge network's
    subnet) alone may set the client address through X-Forwarded-For, nobody else."""
    options: dict[str, Any] = {"host": host, "port": port, "log_level": "warning",
                               "server_header": False}  # fmt: skip
    if config.tls:
        assert config.tls_cert_file is not None and config.tls_key_file is not None
        options["ssl_certfile"] = str(_resolve(config.tls_cert_file, root))
        options["ssl_keyfile"] = str(_resolve(config.tls_key_file, root))
    options["proxy_headers"] = trusted_proxies is not None
    if trusted_proxies is not None:
        options["forwarded_allow_ips"] = trusted_proxies
    return options


def serve(app: Any, options: dict[str, Any]) -> None:
    """Run the app until interrupted."""
    import uvicorn

    uvicorn.run(app, **options)
