"""The live stack the drill runs against: workorders, Alertmanager and Prometheus, the real
binaries, with local stand-ins for Slack, PagerDuty (``receiver.py``) and the mail relay
(``mailbox.py``).

Alertmanager logs in to the mail relay with the committed username and a password file, as
it would at the site; the Slack webhook is read from a file, as in production. Entering the
context starts everything, leaving it stops everything, whatever happened in between.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import yaml

from shiprail._subprocess import which
from shiprail.errors import ToolMissing
from shiprail.observe.drill.compression import SCRAPE_SECONDS
from shiprail.observe.drill.configs import (
    alertmanager_config,
    email_recipients,
    free_port,
    prometheus_config,
    write_targets,
)
from shiprail.observe.drill.mailbox import Mailbox
from shiprail.observe.drill.processes import Processes, workorders_binary
from shiprail.observe.drill.receiver import Notification, Receiver, parse_mail
from shiprail.observe.drill.scenario import ENVIRONMENT, RELEASE
from shiprail.observe.promapi import PrometheusAPI

_LOCAL = "127.0.0.1"


class LiveStack:
    """The real processes behind the runner's :class:`~shiprail.observe.drill.runner.Stack`.

    ``rules`` maps each rule file's name to its compressed text; ``announce`` adds a line to
    the drill's timeline.
    """

    def __init__(
        self,
        root: Path,
        workdir: Path,
        *,
        rules: dict[str, str],
        announce: Callable[[str], None],
        compression: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.monitoring = root / "monitoring"
        self.logs = workdir
        self.rules = rules
        self.announce = announce
        self.compression = compression
        self.clock = clock
        self.token = secrets.token_urlsafe(24)
        self.processes = Processes(workdir, clock=clock)
        self.email_to: list[str] = []
        self._receiver: Receiver | None = None
        self._mailbox: Mailbox | None = None
        self._prometheus: PrometheusAPI | None = None

    @contextlib.contextmanager
    def running(self) -> Iterator[LiveStack]:
        """Start the receivers (HTTP and SMTP), workorders, Alertmanager and Prometheus; stop
        them all afterwards."""
        for tool in ("prometheus", "prometheus-alertmanager"):
            if which(tool) is None:
                raise ToolMissing(tool, "scripts/install-tools.sh prometheus alertmanager")
        self.logs.mkdir(parents=True, exist_ok=True)
        committed = yaml.safe_load(
            (self.monitoring / "alertmanager" / "alertmanager.yml").read_text()
        )
        self.email_to = email_recipients(committed)
        smtp_password = secrets.token_urlsafe(16)
        with (
            Receiver(self.clock) as receiver,
            Mailbox(
                port=free_port(),
                username=str(committed.get("global", {}).get("smtp_auth_username", "")),
                password=smtp_password,
                on_mail=lambda mail: receiver.record(parse_mail(mail)),
            ) as mailbox,
        ):
            self._receiver, self._mailbox = receiver, mailbox
            try:
                self._start(receiver, mailbox, smtp_password)
                yield self
            finally:
                if self._prometheus is not None:
                    self._prometheus.close()
                for name in ("prometheus", "alertmanager", "workorders"):
                    self.processes.stop(name)

    def _write_configs(
        self, receiver: Receiver, mailbox: Mailbox, smtp_password: str, am_port: int
    ) -> tuple[Path, Path]:
        """Write the compressed rules and both configs; (alertmanager.yml, prometheus.yml)."""
        rules_dir = self.logs / "rules"
        rules_dir.mkdir(exist_ok=True)
        rule_files = []
        for name, text in self.rules.items():
            (rules_dir / name).write_text(text)
            rule_files.append(rules_dir / name)
        am_file = self.logs / "alertmanager.yml"
        am_file.write_text(
            alertmanager_config(
                (self.monitoring / "alertmanager" / "alertmanager.yml").read_text(),
                receiver_url=receiver.url,
                secrets_dir=self.logs / "secrets",
                templates_dir=self.monitoring / "alertmanager" / "templates",
                smtp_smarthost=mailbox.smarthost,
                smtp_password=smtp_password,
            )
        )
        prom_file = self.logs / "prometheus.yml"
        prom_file.write_text(
            prometheus_config(
                rule_files=rule_files,
                targets_dir=self.logs / "targets",
                alertmanager=f"{_LOCAL}:{am_port}",
                scrape_seconds=SCRAPE_SECONDS,
            )
        )
        return am_file, prom_file

    def _start(self, receiver: Receiver, mailbox: Mailbox, smtp_password: str) -> None:
        self.app_port = free_port()
        self.app_url = f"http://{_LOCAL}:{self.app_port}"
        am_port, prom_port = free_port(), free_port()
        self.am_url = f"http://{_LOCAL}:{am_port}"
        self.prom_url = f"http://{_LOCAL}:{prom_port}"
        am_file, prom_file = self._write_configs(receiver, mailbox, smtp_password, am_port)
        self.announce("starting workorders, Alertmanager and Prometheus (real binaries)")
        self.restart_service()
        write_targets(self.logs / "targets", ENVIRONMENT, f"{_LOCAL}:{self.app_port}", RELEASE)
        self.processes.start(
            "alertmanager",
            [
                "prometheus-alertmanager",
                f"--config.file={am_file}",
                f"--storage.path={self.logs / 'alertmanager-data'}",
                f"--web.listen-address={_LOCAL}:{am_port}",
                "--cluster.listen-address=",
            ],
        )
        self.processes.wait_http("alertmanager", f"{self.am_url}/-/ready")
        self.processes.start(
            "prometheus",
            [
                "prometheus",
                f"--config.file={prom_file}",
                f"--storage.tsdb.path={self.logs / 'prometheus-data'}",
                f"--web.listen-address={_LOCAL}:{prom_port}",
                "--rules.alert.resend-delay=1s",
                "--web.enable-lifecycle",
            ],
        )
        self.processes.wait_http("prometheus", f"{self.prom_url}/-/ready")
        self._prometheus = PrometheusAPI(self.prom_url)
        self.announce(
            f"stack ready: workorders {self.app_url}, Prometheus {self.prom_url}, "
            f"Alertmanager {self.am_url}, mail relay {mailbox.smarthost}, "
            f"time compressed {self.compression}x"
        )

    # the runner's interface ---------------------------------------------------------------

    def set_faults(self, error_ratio: float, delay_seconds: float) -> None:
        response = httpx.put(
            f"{self.app_url}/debug/faults",
            json={"error_ratio": error_ratio, "delay_seconds": delay_seconds},
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=5.0,
        )
        response.raise_for_status()

    def stop_service(self) -> None:
        self.processes.stop("workorders")

    def restart_service(self) -> None:
        """Start workorders on its port and return once ``/ready`` answers."""
        env = {
            "WORKORDERS_ENV": "dev",
            "WORKORDERS_DATABASE_URL": f"sqlite:///{self.logs / 'workorders.db'}",
            "WORKORDERS_API_TOKEN_HASHES": hashlib.sha256(self.token.encode()).hexdigest(),
            "WORKORDERS_LOG_LEVEL": "WARNING",
        }
        args = [workorders_binary(), "serve", "--migrate", "--port", str(self.app_port)]
        self.processes.start("workorders", args, env)
        self.processes.wait_http("workorders", f"{self.app_url}/ready")

    def notifications(self) -> list[Notification]:
        return self._receiver.received() if self._receiver is not None else []

    def failed_logins(self) -> list[str]:
        return list(self._mailbox.failed_logins) if self._mailbox is not None else []

    def query(self, expr: str) -> None:
        if self._prometheus is None:
            raise RuntimeError("Prometheus is not running: enter running() first")
        self._prometheus.query(expr)
