"""The run behind ``test_secrets_canary.py``: a copy of the repository with secrets planted,
the commands a team runs on it, and every artifact they leave.

The copy holds the working tree's files (tracked and untracked, as ``git ls-files`` lists
them), committed in a fresh repository so the build accepts it. Its ``shiprail.yaml`` has
one environment of a random name on a free port, so nothing of this checkout's own demo (or
another test's) is touched; ``scripts/demo.sh`` runs as ``make demo`` runs it, with
``SHIPRAIL_BIN`` pointing at a wrapper that deploys that environment instead of ``dev``.
"""

from __future__ import annotations

import io
import os
import secrets
import shutil
import socket
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = REPO / ".venv" / "bin"
COMMAND_TIMEOUT_SECONDS = 1200
LABEL_PREFIX = "io.shiprail."
#: Files under the copy that hold a planted value on purpose (relative to the copy).
PLANTED = {
    ".shiprail/canary/secret-file": "secret-file",
    ".shiprail/canary/wrong-passphrase": "wrong-passphrase",
    ".shiprail/demo/api-token": "api-token",
    ".shiprail/demo/cosign.password": "cosign-passphrase",
    ".shiprail/registry/password": "registry-password",
    "service/settings.py": "committed-secret",
}
#: Where the values are planted beside their hashes (the hashes are fine to keep around).
EDGE_PASSWORD_FILE = ".shiprail/edge/{env}.htpasswd.password"


@dataclass
class Command:
    name: str
    args: list[str]
    expected: tuple[int, ...]
    exit_code: int = -1
    stdout: bytes = b""
    stderr: bytes = b""

    def describe(self) -> str:
        tail = (self.stderr[-3000:] or self.stdout[-3000:]).decode(errors="replace")
        return f"{self.name}: exit {self.exit_code}, expected {self.expected}\n{tail}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _git(root: Path, *args: str) -> str:
    identity = ["-c", "user.name=canary", "-c", "user.email=canary@localhost"]
    result = subprocess.run(
        ["git", *identity, *args], cwd=root, check=True, capture_output=True, text=True
    )
    return result.stdout.strip()


class CanaryRun:
    def __init__(self, tmp: Path, values: dict[str, str], ledger_url: str) -> None:
        self.tmp = tmp
        self.root = tmp / "repo"
        self.values = values
        self.ledger_url = ledger_url
        self.env_name = "canary-" + secrets.token_hex(3)
        self.commands: list[Command] = []
        self.base = ""
        self.image = ""

    # -- the copy and the planted values ------------------------------------------------
    def prepare(self) -> None:
        listed = _git(REPO, "ls-files", "-co", "--exclude-standard", "-z")
        for name in filter(None, listed.split("\0")):
            source = REPO / name
            if source.is_file():
                (self.root / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, self.root / name)
        (self.root / ".cache").mkdir()
        (self.root / ".cache" / "data").symlink_to(REPO / ".cache" / "data")
        _git(self.root, "init", "-q")
        _git(self.root, "add", "-A")
        _git(self.root, "commit", "-qm", "the repository as it is")
        self.base = _git(self.root, "rev-parse", "HEAD")
        self._configure()
        committed = self.root / "service" / "settings.py"
        committed.parent.mkdir()
        value = self.values["committed-secret"]
        committed.write_text(
            f'password = "{value}"\n'
            f'AWS_SECRET_ACCESS_KEY = "{value}"\n'
            f'DATABASE_URL = "postgresql://app:{value}@db.internal:5432/app"\n'
        )
        _git(self.root, "add", "-A")
        _git(self.root, "commit", "-qm", "an environment with secrets, and a leaked one")
        self._plant()

    def _configure(self) -> None:
        """One environment (the repository's ``dev``, renamed), with a file and an env secret."""
        path = self.root / "shiprail.yaml"
        config = yaml.safe_load(path.read_text())
        env = config["environments"]["dev"]
        env["edge"].update(port=_free_port(), hostname=f"{self.env_name}.localhost")
        env["edge"]["basic_auth"]["htpasswd_file"] = f".shiprail/edge/{self.env_name}.htpasswd"
        env["secrets"]["canary_file"] = {"file": ".shiprail/canary/secret-file"}
        env["secrets"]["canary_env"] = {"env": "CANARY_SECRET_ENV"}
        # what is measured here is where secrets go, not speed: latency budgets a busy CI
        # machine cannot keep would stop the demo before it leaves its artifacts
        env["health"]["timeout_seconds"] = 180
        for check in env["smoke"]:
            check["max_latency_ms"] = 30_000
        env["watch"].update(max_p95_seconds=30, window_seconds=10)
        config["environments"] = {self.env_name: env}
        path.write_text(yaml.safe_dump(config, sort_keys=False))

    def _plant(self) -> None:
        state = self.root / ".shiprail"
        for directory in ("canary", "demo", "edge", "registry"):
            (state / directory).mkdir(mode=0o700, parents=True, exist_ok=True)
        for name, key in PLANTED.items():
            if not name.startswith("service/"):
                (self.root / name).write_text(self.values[key] + "\n")
        (self.root / ".shiprail/demo/api-token").write_text(self.values["api-token"])
        password = self.values["edge-password"]
        edge = state / "edge" / f"{self.env_name}.htpasswd"
        hashed = self._tool(["openssl", "passwd", "-apr1", "-stdin"], password + "\n")
        edge.write_text(f"admin:{hashed.strip()}\n")
        edge.with_name(edge.name + ".password").write_text(f"admin:{password}\n")
        registry = state / "registry" / "htpasswd"
        self._tool(
            ["htpasswd", "-B", "-i", "-c", str(registry), "shiprail"],
            self.values["registry-password"] + "\n",
        )
        wrapper = self.tmp / "shiprail-wrapper"
        wrapper.write_text(
            "#!/bin/bash\n# demo.sh deploys dev; this copy's environment has another name\n"
            f'args=("$@"); [ "$1" = deploy ] && [ "$2" = dev ] && args[1]={self.env_name}\n'
            f'exec {VENV_BIN / "shiprail"} "${{args[@]}}"\n'
        )
        wrapper.chmod(0o755)

    def _tool(self, args: list[str], stdin: str) -> str:
        done = subprocess.run(args, input=stdin, capture_output=True, text=True, check=True)
        return done.stdout

    def planted_files(self) -> set[Path]:
        files = {self.root / name for name in PLANTED}
        return files | {self.root / EDGE_PASSWORD_FILE.format(env=self.env_name)}

    # -- the commands ---------------------------------------------------------------------
    def environ(self, **extra: str | None) -> dict[str, str]:
        """The commands' environment; ``extra`` overrides it (None: unset the variable)."""
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("SHIPRAIL_ROOT", "SHIPRAIL_STATE_DIR", "SHIPRAIL_SCAN_CACHE"))
        }
        path = f"{REPO / '.tools' / 'bin'}:{VENV_BIN}:{env.get('PATH', '')}"
        env.update(
            PATH=path,
            SHIPRAIL_DATABASE_URL=self.ledger_url,
            SHIPRAIL_BIN=str(self.tmp / "shiprail-wrapper"),
            CANARY_SECRET_ENV=self.values["secret-env"],
            SHIPRAIL_COSIGN_PASSWORD=self.values["cosign-passphrase-env"],
            SHIPRAIL_REGISTRY_USERNAME=self.values["remote-registry-username"],
            SHIPRAIL_REGISTRY_PASSWORD=self.values["remote-registry-password"],
        )
        for key, value in extra.items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        return env

    def sh(
        self, name: str, args: list[str], expected: tuple[int, ...] = (0,), **kw: Any
    ) -> Command:
        command = Command(name, args, expected)
        env = kw.pop("env", None) or self.environ()
        done = subprocess.run(
            args,
            cwd=self.root,
            env=env,
            capture_output=True,
            timeout=COMMAND_TIMEOUT_SECONDS,
            check=False,
            **kw,
        )
        command.exit_code, command.stdout, command.stderr = (
            done.returncode,
            done.stdout,
            done.stderr,
        )
        self.commands.append(command)
        return command

    def shiprail(
        self, name: str, args: list[str], expected: tuple[int, ...] = (0,), **env: str | None
    ) -> Command:
        return self.sh(name, [str(VENV_BIN / "shiprail"), *args], expected, env=self.environ(**env))

    def command(self, name: str) -> Command:
        return next(c for c in self.commands if c.name == name)

    def run_all(self) -> None:
        token = (self.root / ".shiprail/demo/api-token").read_bytes()
        hashed = self.sh("hash-token", [str(VENV_BIN / "workorders"), "hash-token"], input=token)
        (self.root / ".shiprail/demo/api-token.sha256").write_bytes(hashed.stdout)
        demo = self.sh("demo", ["scripts/demo.sh"])
        build = self.root / ".shiprail/demo/logs/build.out"
        made = build.read_text().split() if build.is_file() else []
        self.image = made[-1] if made else ""
        if demo.exit_code != 0:
            return
        env = self.env_name
        self.shiprail("status", ["status", "--json"])
        self.shiprail("history", ["history", env, "--json"])
        self.shiprail("ledger check", ["ledger", "check"])
        self.shiprail("doctor", ["doctor"], (0, 3))
        scan = ["scan", "--changed-since", self.base, "--git-history", "--reports-dir", "reports"]
        self.shiprail("scan", scan, (1,))  # the committed secret blocks
        # the drill's verdict is `make drill`'s business (timing-sensitive on a busy machine);
        # here it matters that it ran and what it printed
        self.shiprail("drill", ["drill"], (0, 1))
        self._failures()

    def _failures(self) -> None:
        wrong = str(self.root / ".shiprail/canary/wrong-passphrase")
        self.shiprail(
            "publish with a wrong passphrase",
            ["publish", self.image],
            (1, 2, 3),
            SHIPRAIL_COSIGN_PASSWORD_FILE=wrong,
        )
        unreachable = sa.engine.make_url(self.ledger_url).set(
            port=_free_port(),
            password=self.values["unreachable-database-password"],
            query={"connect_timeout": "3"},
        )
        url = unreachable.render_as_string(hide_password=False)
        for debug in ([], ["--debug"]):
            name = f"history, database unreachable {' '.join(debug)}".strip()
            self.shiprail(
                name, [*debug, "history", self.env_name], (2, 3), SHIPRAIL_DATABASE_URL=url
            )
        self.shiprail(
            "deploy without the env secret",
            ["deploy", self.env_name, "--image", self.image],
            (2,),
            CANARY_SECRET_ENV=None,
        )

    # -- what the run leaves ----------------------------------------------------------------
    def outputs(self) -> dict[str, bytes]:
        found = {}
        for index, c in enumerate(self.commands):
            found[f"[{index}] {c.name}: stdout"] = c.stdout
            found[f"[{index}] {c.name}: stderr"] = c.stderr
        return found

    def files(self) -> dict[str, bytes]:
        """Every file the run wrote in the copy, but the planted ones and the data link."""
        skip = self.planted_files()
        found = {}
        for top in (".shiprail", "reports", "build", ".cache/scan"):
            for path in sorted((self.root / top).rglob("*")):
                if path.is_file() and not path.is_symlink() and path not in skip:
                    found[str(path.relative_to(self.root))] = path.read_bytes()
        return found

    def ledger_rows(self) -> dict[str, bytes]:
        engine = sa.create_engine(self.ledger_url)
        found = {}
        try:
            with engine.connect() as connection:
                for table in sa.inspect(connection).get_table_names():
                    rows = connection.execute(sa.text(f'SELECT * FROM "{table}"')).all()
                    found[f"ledger table {table}"] = repr([tuple(r) for r in rows]).encode()
        finally:
            engine.dispose()
        return found

    def _docker(self) -> Any:
        from shiprail._docker import docker_client

        return docker_client()

    def _ours(self) -> list[Any]:
        """Containers of this run: labelled ``io.shiprail.*`` and naming its environment (the
        edge names its port), whatever their names are."""
        port = str(
            yaml.safe_load((self.root / "shiprail.yaml").read_text())["environments"][
                self.env_name
            ]["edge"]["port"]
        )
        found = []
        for container in self._docker().containers.list(all=True):
            labels = container.labels or {}
            if not any(key.startswith(LABEL_PREFIX) for key in labels):
                continue
            if self.env_name in labels.values() or port in labels.values():
                found.append(container)
        return found

    def containers(self) -> dict[str, dict[str, Any]]:
        found = {}
        for container in self._ours():
            found[container.name] = {
                "labels": container.labels or {},
                "logs": container.logs(stdout=True, stderr=True),
                "inspect": container.attrs,
            }
        return found

    def mounted_secrets(self) -> dict[str, str]:
        """The files a replica sees in /run/secrets."""
        replica = next(
            c for c in self._ours() if (c.labels or {}).get(f"{LABEL_PREFIX}role") == "replica"
        )
        stream, _ = replica.get_archive("/run/secrets")
        found = {}
        with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as archive:
            for member in archive.getmembers():
                handle = archive.extractfile(member) if member.isfile() else None
                if handle is not None:
                    found[Path(member.name).name] = handle.read().decode().strip()
        return found

    # -- clean up ------------------------------------------------------------------------
    def clean_up(self) -> None:
        """Remove what the run started: registry, containers, volumes, network, images."""
        if (self.root / ".shiprail").is_dir():
            self.shiprail("registry down", ["registry", "down", "--purge"], (0, 1, 2, 3))
        client = self._docker()
        for container in self._ours():
            container.remove(force=True, v=True)
        wanted = {f"{LABEL_PREFIX}environment": self.env_name}
        for volume in client.volumes.list(
            filters={"label": [f"{k}={v}" for k, v in wanted.items()]}
        ):
            volume.remove(force=True)
        for network in client.networks.list(
            filters={"label": [f"{k}={v}" for k, v in wanted.items()]}
        ):
            network.remove()
        if self.root.is_dir() and (self.root / ".git").is_dir():
            sha = _git(self.root, "rev-parse", "--short=12", "HEAD")
            for image in client.images.list():
                for tag in image.tags:
                    if sha in tag:
                        client.images.remove(tag, noprune=False)
