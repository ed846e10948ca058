"""The configuration the drill writes from the committed files.

Alertmanager keeps the committed routes, receivers, inhibitions and templates; only secrets
and endpoints are pointed at the local stand-ins, and grouping runs in seconds. Prometheus
scrapes the same file_sd targets format ``shiprail deploy`` writes, and loads the compressed
rules.
"""

from __future__ import annotations

import json
import secrets
import socket
from pathlib import Path
from typing import Any

import yaml


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def email_recipients(committed: dict[str, Any]) -> list[str]:
    """Every address the committed Alertmanager config sends email to, sorted."""
    return sorted(
        {
            str(config["to"])
            for receiver in committed.get("receivers", [])
            for config in receiver.get("email_configs", [])
        }
    )


def alertmanager_config(
    committed: str,
    *,
    receiver_url: str,
    secrets_dir: Path,
    templates_dir: Path,
    smtp_smarthost: str | None = None,
    smtp_password: str | None = None,
) -> str:
    """The committed routing with secrets and endpoints pointed at the local receivers.

    ``smtp_smarthost`` is the local mailbox; without one, email goes to a port nobody
    listens on (configuration checks need no delivery)."""
    data = yaml.safe_load(committed)
    secrets_dir.mkdir(parents=True, exist_ok=True)
    slack_file = secrets_dir / "slack-webhook-url"
    slack_file.write_text(f"{receiver_url}/slack\n")
    key_file = secrets_dir / "pagerduty-routing-key"
    key_file.write_text(secrets.token_hex(16) + "\n")
    smtp_file = secrets_dir / "smtp-password"
    smtp_file.write_text(smtp_password or secrets.token_hex(8))
    for path in (slack_file, key_file, smtp_file):
        path.chmod(0o600)
    glob = data.setdefault("global", {})
    glob["slack_api_url_file"] = str(slack_file)
    glob["smtp_auth_password_file"] = str(smtp_file)
    glob["smtp_smarthost"] = smtp_smarthost or f"127.0.0.1:{free_port()}"
    glob["smtp_require_tls"] = False
    data["templates"] = [str(templates_dir / "*.tmpl")]
    route = data["route"]
    route.update(group_wait="1s", group_interval="2s", repeat_interval="1h")
    for sub in route.get("routes", []):
        if "repeat_interval" in sub:
            sub["repeat_interval"] = "1h"
    for receiver in data.get("receivers", []):
        for config in receiver.get("pagerduty_configs", []):
            config["routing_key_file"] = str(key_file)
            config["url"] = f"{receiver_url}/pagerduty"
    return yaml.safe_dump(data, sort_keys=False)


def prometheus_config(
    *, rule_files: list[Path], targets_dir: Path, alertmanager: str, scrape_seconds: int
) -> str:
    """Prometheus scraping the file_sd targets (the format ``shiprail deploy`` writes)."""
    return yaml.safe_dump(
        {
            "global": {
                "scrape_interval": f"{scrape_seconds}s",
                "scrape_timeout": f"{scrape_seconds}s",
                "evaluation_interval": f"{scrape_seconds}s",
            },
            "rule_files": [str(p) for p in rule_files],
            "alerting": {"alertmanagers": [{"static_configs": [{"targets": [alertmanager]}]}]},
            "scrape_configs": [
                {
                    "job_name": "workorders",
                    "file_sd_configs": [
                        {"files": [str(targets_dir / "*.json")], "refresh_interval": "1s"}
                    ],
                }
            ],
        },
        sort_keys=False,
    )


def write_targets(targets_dir: Path, environment: str, address: str, release: str) -> Path:
    """A file_sd targets file like the one deploy rewrites at every blue/green switch."""
    targets_dir.mkdir(parents=True, exist_ok=True)
    path = targets_dir / f"{environment}.json"
    entry = {
        "targets": [address],
        "labels": {
            "environment": environment,
            "release": release,
            "colour": "blue",
            "service": "workorders",
        },
    }
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps([entry], indent=2))
    tmp.replace(path)  # atomic: Prometheus never reads half a file
    return path
