"""The incident drill: real workorders, Prometheus and Alertmanager, faults, and a timeline.

What it proves, end to end, with the committed files (``monitoring/prometheus/*.yaml``,
``monitoring/alertmanager/``): injected faults make the right alerts fire, Alertmanager
routes them to PagerDuty and Slack with the right severity, labels and runbook link, within
the time the rules promise, and recovery sends resolved notifications.

To run in about two minutes instead of hours, the drill *compresses time*: every duration in
the rules (range selectors and ``for:``) is divided by ``compression`` (60: 5m becomes 5s,
1h becomes 1m), Prometheus scrapes and evaluates every second, and Alertmanager groups in
seconds. The rule logic, thresholds, labels, routes, inhibitions and templates are the
committed ones. A local HTTP server stands in for Slack and PagerDuty: the drill points the
Slack webhook (read from a file, as in production) and the PagerDuty Events API URL at it. A
local SMTP server (aiosmtpd) stands in for the mail relay: Alertmanager logs in with the
committed username and a password file, as it would at the site.

Phases: baseline (nothing fires) -> 50% errors (HighErrorRate + ErrorBudgetBurn page) ->
recovery (resolved), at once somewhat slow responses (HighResponseTime warning: Slack, email)
-> recovery (resolved, by email too) -> slow responses (HighResponseTime) -> recovery ->
service stopped (ApplicationDown) -> restarted (resolved). Each phase waits for the
notifications and fails with a clear message if they do not arrive in time.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import yaml

from shiprail._subprocess import start, which
from shiprail.errors import Refused, ToolCrashed
from shiprail.observe.dashboards import dashboard_queries
from shiprail.observe.mailbox import Mail, Mailbox
from shiprail.observe.promapi import PrometheusAPI
from shiprail.observe.slo import duration_seconds, format_duration

DEFAULT_COMPRESSION = 60
SCRAPE_SECONDS = 1
#: Time allowed for process start-up, network and Python scheduling on a busy 2-core runner,
#: on top of what the rules promise.
SLACK_SECONDS = 20.0
#: Where each severity must arrive (the committed routes: critical pages, warning tickets).
CHANNELS = {"critical": {"pagerduty", "slack"}, "warning": {"email", "slack"}}
#: A delay whose p95 lands between the HighResponseTime warning (0.5s) and critical (1s)
#: thresholds: with workorders' buckets (0.5, 1.0] the estimate stays below 1s.
WARNING_DELAY_SECONDS = 0.6
STARTUP_TIMEOUT_SECONDS = 60.0
_RANGE = re.compile(r"\[(\d+[smhdwy](?:\d+[smhdwy])*)(?::(\d+[smhdwy](?:\d+[smhdwy])*))?\]")
_OFFSET = re.compile(r"\boffset\s+(\d+[smhdwy](?:\d+[smhdwy])*)")


# --- time compression ----------------------------------------------------------------------


def compress_duration(text: str, factor: int) -> str:
    """``text`` divided by ``factor`` (at least one second)."""
    return format_duration(max(1, duration_seconds(text) // factor))


def compress_expr(expr: str, factor: int) -> str:
    """Divide every range selector, subquery step and offset in a PromQL expression."""

    def ranges(match: re.Match[str]) -> str:
        window = compress_duration(match.group(1), factor)
        step = match.group(2)
        return f"[{window}:{compress_duration(step, factor)}]" if step else f"[{window}]"

    expr = _RANGE.sub(ranges, expr)
    return _OFFSET.sub(lambda m: f"offset {compress_duration(m.group(1), factor)}", expr)


def compress_rules(text: str, factor: int) -> str:
    """A rules file with every duration divided by ``factor``; everything else unchanged."""
    data = yaml.safe_load(text)
    for group in data.get("groups", []):
        if "interval" in group:
            group["interval"] = compress_duration(group["interval"], factor)
        for rule in group.get("rules", []):
            rule["expr"] = compress_expr(str(rule["expr"]), factor)
            if "for" in rule:
                rule["for"] = compress_duration(rule["for"], factor)
    return yaml.safe_dump(data, sort_keys=False)


def rule_windows(text: str) -> dict[tuple[str, str], tuple[int, int]]:
    """(alertname, severity) -> (longest range in seconds, ``for`` in seconds)."""
    result: dict[tuple[str, str], tuple[int, int]] = {}
    for group in yaml.safe_load(text).get("groups", []):
        for rule in group.get("rules", []):
            if "alert" not in rule:
                continue
            ranges = [duration_seconds(m.group(1)) for m in _RANGE.finditer(str(rule["expr"]))]
            for_seconds = duration_seconds(rule["for"]) if "for" in rule else 0
            key = (rule["alert"], rule.get("labels", {}).get("severity", ""))
            result[key] = (max(ranges, default=0), for_seconds)
    return result


# --- the stand-in for Slack and PagerDuty ---------------------------------------------------


@dataclass(frozen=True)
class Notification:
    at: float
    channel: str  # "slack", "pagerduty" or "email"
    alertname: str
    severity: str
    status: str  # "firing" or "resolved"
    runbook_url: str
    labels: dict[str, str]
    payload: dict[str, Any]


_TITLE = re.compile(r"^\[(FIRING|RESOLVED)(?::\d+)?\] (\S+) \((\w+)\)")


def parse_notification(channel: str, payload: dict[str, Any], at: float) -> Notification:
    """Read what a human would see: the title, the runbook link and the label line."""
    labels: dict[str, str] = {}
    if channel == "slack":
        attachment = (payload.get("attachments") or [{}])[0]
        title = str(attachment.get("title", ""))
        runbook = str(attachment.get("title_link", ""))
        for line in str(attachment.get("text", "")).splitlines():
            if line.startswith("Labels: "):
                labels = dict(
                    pair.split("=", 1)
                    for pair in line.removeprefix("Labels: ").split()
                    if "=" in pair
                )
                break
    else:
        title = str(payload.get("payload", {}).get("summary", ""))
        details = payload.get("payload", {}).get("custom_details", {})
        runbook = str(details.get("runbook_url", ""))
        labels = {
            "service": str(details.get("service", "")),
            "environment": str(details.get("environment", "")),
        }
        if payload.get("event_action") == "resolve":
            title = title.replace("[FIRING", "[RESOLVED", 1)
    match = _TITLE.match(title)
    status, alertname, severity = (
        (match.group(1).lower(), match.group(2), match.group(3)) if match else ("?", "?", "?")
    )
    if channel == "pagerduty" and payload.get("event_action") == "resolve":
        status = "resolved"
    return Notification(at, channel, alertname, severity, status, runbook, labels, payload)


def _labels_line(text: str) -> dict[str, str]:
    for line in text.splitlines():
        if line.startswith("Labels: "):
            return dict(
                pair.split("=", 1) for pair in line.removeprefix("Labels: ").split() if "=" in pair
            )
    return {}


def parse_mail(mail: Mail) -> Notification:
    """An email read like the Slack message: subject as title, runbook and labels from the
    text part (the committed template writes both), the HTML part kept for its link."""
    match = _TITLE.match(mail.subject)
    status, alertname, severity = (
        (match.group(1).lower(), match.group(2), match.group(3)) if match else ("?", "?", "?")
    )
    runbook = next(
        (
            line.removeprefix("Runbook: ").strip()
            for line in mail.text.splitlines()
            if line.startswith("Runbook: ")
        ),
        "",
    )
    payload = {
        "subject": mail.subject,
        "to": list(mail.recipients),
        "from": mail.mail_from,
        "login": mail.login,
        "text": mail.text,
        "html": mail.html,
    }
    return Notification(
        mail.at, "email", alertname, severity, status, runbook, _labels_line(mail.text), payload
    )


class Receiver:
    """A local HTTP server recording every Slack and PagerDuty call it gets."""

    def __init__(self) -> None:
        self.notifications: list[Notification] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0") or 0))
                channel = "pagerduty" if self.path.startswith("/pagerduty") else "slack"
                try:
                    payload = json.loads(body)
                except ValueError:
                    payload = {}
                with receiver._lock:
                    receiver.notifications.append(
                        parse_notification(channel, payload, time.monotonic())
                    )
                answer = b'{"status":"success"}' if channel == "pagerduty" else b"ok"
                self.send_response(202 if channel == "pagerduty" else 200)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *_: object) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def record(self, notification: Notification) -> None:
        """Add a notification that came another way (the SMTP mailbox)."""
        with self._lock:
            self.notifications.append(notification)

    def find(
        self, alertname: str, status: str, *, channel: str | None = None, since: float = 0.0
    ) -> list[Notification]:
        with self._lock:
            return [
                n
                for n in self.notifications
                if n.alertname == alertname
                and n.status == status
                and n.at >= since
                and (channel is None or n.channel == channel)
            ]


# --- configuration the drill generates from the committed files -----------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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


# --- the drill ------------------------------------------------------------------------------


@dataclass
class Timeline:
    started: float = field(default_factory=time.monotonic)
    events: list[tuple[float, str]] = field(default_factory=list)
    say: Callable[[str], None] = lambda _: None

    def add(self, what: str, at: float | None = None) -> None:
        offset = (at if at is not None else time.monotonic()) - self.started
        self.events.append((offset, what))
        self.say(f"{offset:7.1f}s  {what}")

    def render(self) -> str:
        return "\n".join(f"{offset:7.1f}s  {what}" for offset, what in sorted(self.events))


@dataclass(frozen=True)
class Expectation:
    alertname: str
    severity: str
    promise_seconds: float
    labels: dict[str, str] = field(default_factory=dict)


@dataclass
class DrillResult:
    timeline: Timeline
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    panel_queries: int = 0
    panel_errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "timeline": [{"t": round(t, 2), "event": e} for t, e in self.timeline.events],
            "deliveries": self.deliveries,
            "panel_queries": self.panel_queries,
            "panel_errors": self.panel_errors,
        }


class _Load:
    """Steady client traffic: list and create work orders from a few threads."""

    def __init__(self, base_url: str, token: str, threads: int = 4, pause: float = 0.05) -> None:
        self.base_url = base_url
        self.token = token
        self.pause = pause
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(threads)
        ]

    def _run(self, index: int) -> None:
        categories = ("plumbing", "electrical", "hvac", "appliance", "general")
        count = 0
        with httpx.Client(base_url=self.base_url, timeout=10.0) as client:
            while not self._stop.is_set():
                count += 1
                try:
                    if count % 10 == index % 10:
                        client.post(
                            "/api/v1/workorders",
                            headers={"Authorization": f"Bearer {self.token}"},
                            json={
                                "title": f"drill order {index}-{count}",
                                "category": categories[count % len(categories)],
                                "property_ref": "BLD-1/1A",
                            },
                        )
                    else:
                        client.get("/api/v1/workorders", params={"limit": 5})
                except httpx.HTTPError:
                    time.sleep(0.2)  # the service is down (a phase of the drill)
                self._stop.wait(self.pause)

    def __enter__(self) -> _Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=15)


class Drill:
    """Owns the processes; ``run()`` goes through the phases and returns the timeline."""

    def __init__(
        self,
        root: Path,
        workdir: Path,
        *,
        compression: int = DEFAULT_COMPRESSION,
        say: Callable[[str], None] = lambda _: None,
    ) -> None:
        self.root = root.resolve()
        self.workdir = workdir.resolve()
        self.compression = compression
        self.say = say
        self.timeline = Timeline(say=say)
        self.result = DrillResult(self.timeline)
        self._processes: dict[str, Any] = {}
        self.token = secrets.token_urlsafe(24)
        self.environment = "drill"

    # processes ---------------------------------------------------------------------------

    def _start(self, name: str, args: list[str], env: dict[str, str] | None = None) -> None:
        log = self.workdir / f"{name}.log"
        self._processes[name] = start(args, log_path=log, cwd=self.workdir, env=env)

    def _stop(self, name: str) -> None:
        process = self._processes.pop(name, None)
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=20)
        except Exception:
            process.kill()
            process.wait(timeout=10)

    def _log_tail(self, name: str) -> str:
        path = self.workdir / f"{name}.log"
        lines = path.read_text(errors="replace").splitlines()[-8:] if path.exists() else []
        return " / ".join(lines)

    def _wait_http(self, name: str, url: str) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            process = self._processes.get(name)
            if process is not None and process.poll() is not None:
                raise ToolCrashed(
                    f"{name} exited with {process.returncode}: {self._log_tail(name)}"
                )
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url, timeout=2.0).status_code == 200:
                    return
            time.sleep(0.2)
        raise ToolCrashed(f"{name} did not become ready at {url}: {self._log_tail(name)}")

    def _workorders_binary(self) -> str:
        import sys

        beside_python = Path(sys.executable).parent / "workorders"
        return str(beside_python) if beside_python.exists() else "workorders"

    def start_workorders(self) -> None:
        env = {
            "WORKORDERS_ENV": "dev",
            "WORKORDERS_DATABASE_URL": f"sqlite:///{self.workdir / 'workorders.db'}",
            "WORKORDERS_API_TOKEN_HASHES": hashlib.sha256(self.token.encode()).hexdigest(),
            "WORKORDERS_LOG_LEVEL": "WARNING",
        }
        args = [self._workorders_binary(), "serve", "--migrate", "--port", str(self.app_port)]
        self._start("workorders", args, env)
        self._wait_http("workorders", f"{self.app_url}/ready")

    @contextlib.contextmanager
    def stack(self) -> Iterator[Receiver]:
        """Start the receivers (HTTP and SMTP), workorders, Alertmanager and Prometheus; stop
        them all afterwards."""
        for tool in ("prometheus", "prometheus-alertmanager"):
            if which(tool) is None:
                from shiprail.errors import ToolMissing

                raise ToolMissing(tool, "scripts/install-tools.sh prometheus alertmanager")
        self.workdir.mkdir(parents=True, exist_ok=True)
        committed = yaml.safe_load(
            (self.root / "monitoring" / "alertmanager" / "alertmanager.yml").read_text()
        )
        self.email_to = sorted(
            {
                str(config["to"])
                for receiver in committed.get("receivers", [])
                for config in receiver.get("email_configs", [])
            }
        )
        self.smtp_password = secrets.token_urlsafe(16)
        with (
            Receiver() as receiver,
            Mailbox(
                port=free_port(),
                username=str(committed.get("global", {}).get("smtp_auth_username", "")),
                password=self.smtp_password,
                on_mail=lambda mail: receiver.record(parse_mail(mail)),
            ) as mailbox,
        ):
            self.mailbox = mailbox
            try:
                self._start_stack(receiver)
                yield receiver
            finally:
                for name in ("prometheus", "alertmanager", "workorders"):
                    self._stop(name)

    def _start_stack(self, receiver: Receiver) -> None:
        monitoring = self.root / "monitoring"
        rules_dir = self.workdir / "rules"
        rules_dir.mkdir(exist_ok=True)
        rule_files = []
        self.windows: dict[tuple[str, str], tuple[int, int]] = {}
        for source in (
            monitoring / "prometheus" / "alerts.yaml",
            monitoring / "prometheus" / "slo-rules.yaml",
        ):
            compressed = compress_rules(source.read_text(), self.compression)
            self.windows.update(rule_windows(compressed))
            target = rules_dir / source.name
            target.write_text(compressed)
            rule_files.append(target)
        self.app_port = free_port()
        self.app_url = f"http://127.0.0.1:{self.app_port}"
        am_port, prom_port = free_port(), free_port()
        self.am_url = f"http://127.0.0.1:{am_port}"
        self.prom_url = f"http://127.0.0.1:{prom_port}"
        am_file = self.workdir / "alertmanager.yml"
        am_file.write_text(
            alertmanager_config(
                (monitoring / "alertmanager" / "alertmanager.yml").read_text(),
                receiver_url=receiver.url,
                secrets_dir=self.workdir / "secrets",
                templates_dir=monitoring / "alertmanager" / "templates",
                smtp_smarthost=self.mailbox.smarthost,
                smtp_password=self.smtp_password,
            )
        )
        self.targets_dir = self.workdir / "targets"
        prom_file = self.workdir / "prometheus.yml"
        prom_file.write_text(
            prometheus_config(
                rule_files=rule_files,
                targets_dir=self.targets_dir,
                alertmanager=f"127.0.0.1:{am_port}",
                scrape_seconds=SCRAPE_SECONDS,
            )
        )
        self.timeline.add("starting workorders, Alertmanager and Prometheus (real binaries)")
        self.start_workorders()
        write_targets(self.targets_dir, self.environment, f"127.0.0.1:{self.app_port}", "drill-1")
        self._start(
            "alertmanager",
            [
                "prometheus-alertmanager",
                f"--config.file={am_file}",
                f"--storage.path={self.workdir / 'alertmanager-data'}",
                f"--web.listen-address=127.0.0.1:{am_port}",
                "--cluster.listen-address=",
            ],
        )
        self._wait_http("alertmanager", f"{self.am_url}/-/ready")
        self._start(
            "prometheus",
            [
                "prometheus",
                f"--config.file={prom_file}",
                f"--storage.tsdb.path={self.workdir / 'prometheus-data'}",
                f"--web.listen-address=127.0.0.1:{prom_port}",
                "--rules.alert.resend-delay=1s",
                "--web.enable-lifecycle",
            ],
        )
        self._wait_http("prometheus", f"{self.prom_url}/-/ready")
        self.timeline.add(
            f"stack ready: workorders {self.app_url}, Prometheus {self.prom_url}, "
            f"Alertmanager {self.am_url}, mail relay {self.mailbox.smarthost}, "
            f"time compressed {self.compression}x"
        )

    # phases ------------------------------------------------------------------------------

    def _set_faults(self, error_ratio: float = 0.0, delay_seconds: float = 0.0) -> None:
        response = httpx.put(
            f"{self.app_url}/debug/faults",
            json={"error_ratio": error_ratio, "delay_seconds": delay_seconds},
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=5.0,
        )
        response.raise_for_status()

    def burn_promise(self, slo_name: str, error_ratio: float) -> float:
        """Seconds the SLO page promises at ``error_ratio``: the SRE workbook's detection time
        (long window x threshold / error ratio) of its fastest condition, once the short window
        holds the errors, plus evaluation, grouping and start-up slack."""
        from shiprail.observe.slo import load_slos

        slo = next(s for s in load_slos(self.root / "monitoring" / "slo") if s.name == slo_name)
        detections = [
            max(
                duration_seconds(a.long) / self.compression * a.threshold / error_ratio,
                duration_seconds(a.short) / self.compression,
            )
            for a in slo.burn_alerts()
            if a.burn_window == "page" and a.threshold < error_ratio
        ]
        return min(detections) + 3 * SCRAPE_SECONDS + 1 + SLACK_SECONDS

    def promise(self, alertname: str, severity: str) -> float:
        """Seconds the rules allow from fault to delivery: fill the window, wait ``for``,
        evaluate, group (Alertmanager ``group_wait``), plus start-up slack."""
        window, for_seconds = self.windows[(alertname, severity)]
        return window + for_seconds + 3 * SCRAPE_SECONDS + 1 + SLACK_SECONDS

    def _await(
        self, receiver: Receiver, expected: list[Expectation], status: str, since: float
    ) -> None:
        pending = list(expected)
        deadline = since + max(e.promise_seconds for e in expected)
        while pending:
            for exp in list(pending):
                found = [
                    n
                    for n in receiver.find(exp.alertname, status, since=since)
                    if n.severity == exp.severity or n.status == "resolved"
                ]
                channels = {n.channel for n in found}
                needed = CHANNELS[exp.severity]
                if needed <= channels:
                    first = min(n.at for n in found)
                    late = first - since > exp.promise_seconds
                    self._check(exp, found, status)
                    self.timeline.add(
                        f"{status:8} {exp.alertname} ({exp.severity}) delivered to "
                        f"{', '.join(sorted(channels))} after {first - since:.1f}s "
                        f"(promised <= {exp.promise_seconds:.0f}s)",
                        at=first,
                    )
                    self.result.deliveries.append(
                        {
                            "alertname": exp.alertname,
                            "severity": exp.severity,
                            "status": status,
                            "seconds": round(first - since, 2),
                            "promised_seconds": round(exp.promise_seconds, 1),
                            "channels": sorted(channels),
                        }
                    )
                    if late:
                        raise Refused(
                            f"{exp.alertname} ({exp.severity}) {status} arrived after "
                            f"{first - since:.1f}s, later than the {exp.promise_seconds:.0f}s "
                            "the rules promise"
                        )
                    pending.remove(exp)
            if pending and time.monotonic() > deadline:
                names = ", ".join(f"{e.alertname} ({e.severity})" for e in pending)
                seen = sorted(
                    {f"{n.alertname}/{n.status}/{n.channel}" for n in receiver.notifications}
                )
                refused = self.mailbox.failed_logins
                raise Refused(
                    f"no {status} notification for {names} on every channel within the promised "
                    f"time; received so far: {', '.join(seen) or 'nothing'}"
                    + (f"; the mail relay refused logins as {refused}" if refused else ""),
                    hint=f"see the logs in {self.workdir}",
                )
            time.sleep(0.25)

    def _check(self, exp: Expectation, found: list[Notification], status: str) -> None:
        for note in found:
            if not note.runbook_url.endswith(f"docs/runbooks/{exp.alertname}.md"):
                raise Refused(
                    f"{exp.alertname} {status} notification via {note.channel} links "
                    f"'{note.runbook_url}', not docs/runbooks/{exp.alertname}.md"
                )
            if status == "firing" and note.channel in ("slack", "email"):
                wanted = {"severity": exp.severity, "service": "workorders", **exp.labels}
                wrong = {k: v for k, v in wanted.items() if note.labels.get(k) != v}
                if wrong:
                    raise Refused(
                        f"{exp.alertname} notification has labels {note.labels}, wanted {wanted}"
                    )
            if note.channel == "email":
                self._check_mail(exp, note, status)
            if note.channel == "pagerduty" and status == "firing":
                severity = note.payload.get("payload", {}).get("severity")
                if severity != "critical":
                    raise Refused(f"PagerDuty event for {exp.alertname} has severity {severity}")

    def _check_mail(self, exp: Expectation, note: Notification, status: str) -> None:
        """The message reached the committed recipients, logged in, and both parts link the
        runbook (text for mail readers, the HTML anchor for everyone else)."""
        mail = note.payload
        if sorted(mail["to"]) != self.email_to:
            raise Refused(f"{exp.alertname} email went to {mail['to']}, not {self.email_to}")
        if not mail["login"]:
            raise Refused(f"{exp.alertname} email was accepted without the SMTP login")
        href = f'href="{note.runbook_url}"'
        if href not in mail["html"]:
            raise Refused(f"{exp.alertname} {status} email's HTML part has no {href}")
        if not mail["subject"].startswith(f"[{status.upper()}"):
            raise Refused(f"{exp.alertname} {status} email has the subject {mail['subject']!r}")

    def _assert_quiet(self, receiver: Receiver, since: float) -> None:
        firing = [n for n in receiver.notifications if n.at >= since and n.status == "firing"]
        if firing:
            names = ", ".join(sorted({n.alertname for n in firing}))
            raise Refused(f"alerts fired while the service was healthy: {names}")

    def check_panels(self) -> None:
        """Every dashboard panel query must evaluate without error on the live Prometheus."""
        queries = dashboard_queries(self.root / "monitoring" / "grafana" / "dashboards")
        with PrometheusAPI(self.prom_url) as api:
            for where, expr in queries:
                self.result.panel_queries += 1
                try:
                    api.query(expr)
                except Exception as exc:
                    self.result.panel_errors.append(f"{where}: {exc}")
        self.timeline.add(
            f"dashboards: {self.result.panel_queries} panel queries evaluated, "
            f"{len(self.result.panel_errors)} errors"
        )
        if self.result.panel_errors:
            raise Refused("dashboard queries failed: " + "; ".join(self.result.panel_errors[:5]))

    def run(self) -> DrillResult:
        with self.stack() as receiver, _Load(self.app_url, self.token):
            env = {"environment": self.environment}
            baseline = time.monotonic()
            self.timeline.add("baseline: steady traffic, no faults")
            time.sleep(max(8.0, 3600 / self.compression / 6))
            self._assert_quiet(receiver, baseline)
            self.timeline.add("baseline: no alert fired")

            self.timeline.add("fault: 50% of API requests answer 500")
            since = time.monotonic()
            self._set_faults(error_ratio=0.5)
            self._await(
                receiver,
                [
                    Expectation(
                        "HighErrorRate", "critical", self.promise("HighErrorRate", "critical"), env
                    ),
                    Expectation(
                        "ErrorBudgetBurn",
                        "critical",
                        self.burn_promise("workorders-availability", 0.5),
                        {**env, "slo": "workorders-availability", "burn_window": "page"},
                    ),
                ],
                "firing",
                since,
            )
            self.check_panels()
            # The errors' recovery and the warning-level latency run together (different
            # series), so proving email costs the drill little extra time.
            self.timeline.add(
                "recovery: errors cleared; fault: every API request delayed by "
                f"{WARNING_DELAY_SECONDS}s (p95 above the warning threshold, below the critical)"
            )
            since = time.monotonic()
            self._set_faults(delay_seconds=WARNING_DELAY_SECONDS)
            self._await(
                receiver,
                [
                    Expectation(
                        "HighErrorRate", "critical", self.promise("HighErrorRate", "critical")
                    ),
                ],
                "resolved",
                since,
            )
            warning = Expectation(
                "HighResponseTime", "warning", self.promise("HighResponseTime", "warning"), env
            )
            self._await(receiver, [warning], "firing", since)
            self.timeline.add("recovery: delay removed")
            since = time.monotonic()
            self._set_faults()
            self._await(receiver, [warning], "resolved", since)

            self.timeline.add("fault: every API request delayed by 1.5s")
            since = time.monotonic()
            self._set_faults(delay_seconds=1.5)
            self._await(
                receiver,
                [
                    Expectation(
                        "HighResponseTime",
                        "critical",
                        self.promise("HighResponseTime", "critical"),
                        env,
                    )
                ],
                "firing",
                since,
            )
            self.timeline.add("recovery: delay removed")
            since = time.monotonic()
            self._set_faults()
            self._await(
                receiver,
                [
                    Expectation(
                        "HighResponseTime", "critical", self.promise("HighResponseTime", "critical")
                    )
                ],
                "resolved",
                since,
            )

            self.timeline.add("fault: workorders stopped")
            since = time.monotonic()
            self._stop("workorders")
            self._await(
                receiver,
                [
                    Expectation(
                        "ApplicationDown",
                        "critical",
                        self.promise("ApplicationDown", "critical"),
                        {**env, "release": "drill-1", "colour": "blue"},
                    )
                ],
                "firing",
                since,
            )
            self.start_workorders()  # returns once /ready answers: the recovery moment
            self.timeline.add("recovery: workorders restarted and ready")
            since = time.monotonic()
            self._await(
                receiver,
                [
                    Expectation(
                        "ApplicationDown", "critical", self.promise("ApplicationDown", "critical")
                    )
                ],
                "resolved",
                since,
            )
            self.timeline.add("drill passed")
        return self.result


def run_drill(
    root: Path,
    workdir: Path,
    *,
    compression: int = DEFAULT_COMPRESSION,
    say: Callable[[str], None] = lambda _: None,
) -> DrillResult:
    return Drill(root, workdir, compression=compression, say=say).run()
