"""Wiring for the CLI: the configured engine on the real platform, and signal handling.

SIGTERM (a CI job cancelled, ``kill``) is turned into KeyboardInterrupt so a rollout is
undone the same way as Ctrl-C: previous release kept in front, release marked failed, exit 1.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from types import FrameType

from shiprail import output
from shiprail.config import load_config
from shiprail.deploy.engine import Engine
from shiprail.deploy.ledger import Ledger
from shiprail.deploy.monitoring_targets import file_sd_dir
from shiprail.deploy.platform import docker_platform
from shiprail.deploy.settings import default_database_url, state_dir
from shiprail.deploy.trust import ImageTrust


def _raise_interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def install_signal_handlers() -> None:
    signal.signal(signal.SIGTERM, _raise_interrupt)


def open_ledger(url: str | None = None) -> Ledger:
    ledger = Ledger(url or default_database_url())
    ledger.migrate()
    return ledger


def open_engine(say: Callable[[str], None] = output.say, trust: ImageTrust | None = None) -> Engine:
    """The configured engine; ``trust`` admits images (the CLI hands in the image package's;
    without one every deploy, promotion and rollback is refused)."""
    from shiprail.paths import repo_root

    config = load_config()
    root = repo_root()
    state = state_dir()
    return Engine(
        config,
        open_ledger(),
        docker_platform(
            root,
            state,
            getattr(config.monitoring, "prometheus_url", None),
            getattr(config.monitoring, "alertmanager_url", None),
            trust,
            config.service.name,
        ),
        file_sd_dir=file_sd_dir(config),
        root=root,
        say=say,
    )


def access_hints(environment: str) -> list[str]:
    """How a person reaches the environment: the local CA to trust, where the password is."""
    from pathlib import Path

    from shiprail.paths import repo_root

    cfg = load_config().environments.get(environment)
    if cfg is None or cfg.kubernetes is not None:  # reached through the cluster, not the edge
        return []
    hints = []
    ca = state_dir() / "edge" / "ca" / "ca.pem"
    if cfg.edge.tls.cert_file is None and ca.is_file():
        hints.append(f"TLS: certificate from the local CA, trust it with --cacert {ca}")
    if cfg.edge.basic_auth is not None:
        path = Path(cfg.edge.basic_auth.htpasswd_file)
        path = path if path.is_absolute() else repo_root() / path
        password = path.with_name(path.name + ".password")
        where = f"user:password in {password}" if password.is_file() else f"users in {path}"
        hints.append(f"basic auth: {where}")
    return hints
