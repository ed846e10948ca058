"""tools.lock parsing and ``shiprail doctor``."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from shiprail import __version__
from shiprail.cli import app
from shiprail.errors import ConfigError
from shiprail.tools import Tool, load_lock, version_matches

runner = CliRunner()


def write_lock(tmp_path, body: str):
    path = tmp_path / "tools.lock"
    path.write_text("# header\n" + body)
    return path


def test_the_repository_lock_parses_and_pins_every_kind():
    tools = load_lock()
    kinds = {tool.kind for tool in tools}
    assert kinds == {"apt", "pypi", "go", "k8s", "system"}
    names = {tool.name for tool in tools}
    for expected in ("docker.io", "postgresql", "prometheus", "helm", "bandit", "gitleaks"):
        assert expected in names
    (terraform,) = [tool for tool in tools if tool.name == "terraform"]
    assert (terraform.kind, terraform.version, terraform.required) == ("system", "1.11", True)
    (kubernetes,) = [tool for tool in tools if tool.kind == "k8s"]
    assert kubernetes.source == "k8s.io/kubernetes" and kubernetes.binary == "kube-apiserver"
    assert "install-tools.sh kubernetes" in kubernetes.install_command()


def test_malformed_lines_name_the_line(tmp_path):
    with pytest.raises(ConfigError, match=r"tools.lock:3: expected 6 fields"):
        load_lock(write_lock(tmp_path, "ok apt 1 ok ok required\nbroken line\n"))
    with pytest.raises(ConfigError, match=r"tools.lock:2: kind must be one of"):
        load_lock(write_lock(tmp_path, "x brew 1 x x required\n"))
    with pytest.raises(ConfigError, match=r"tools.lock:2: need must be one of"):
        load_lock(write_lock(tmp_path, "x apt 1 x x maybe\n"))


@pytest.mark.parametrize(
    ("found", "pinned", "ok"),
    [
        ("15.18", "15", True),
        ("3.22.0", "v3.22.0", True),
        ("2.42.0", "2.42", True),
        ("2.43.0", "2.42", False),
        ("1.10", "1.1", False),
        ("8.30.1", "v8.30.2", False),
    ],
)
def test_version_matching_is_by_components(found, pinned, ok):
    assert version_matches(found, pinned) is ok


def test_install_commands_are_exact():
    assert Tool("nginx", "apt", "1.22", "nginx", "nginx", True).install_command() == (
        "apt-get install -y nginx"
    )
    go = Tool("helm", "go", "v3.22.0", "helm.sh/helm/v3/cmd/helm", "helm", True)
    assert go.install_command().endswith("go install helm.sh/helm/v3/cmd/helm@v3.22.0")


def test_version_flag():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"shiprail {__version__}"


def test_doctor_exits_3_and_says_how_to_install_a_missing_required_tool(tmp_path, monkeypatch):
    write_lock(
        tmp_path,
        "shellcheck apt 0 shellcheck shellcheck required\n"
        "nothere pypi 1.0 nothere-dist no-such-binary-xyz required\n"
        "extra go v1.0.0 example.org/extra no-such-binary-abc optional\n",
    )
    monkeypatch.setenv("SHIPRAIL_ROOT", str(tmp_path))
    result = runner.invoke(app, ["doctor", "--json"])
    assert result.exit_code == 3
    rows = {row["name"]: row for row in json.loads(result.stdout)["tools"]}
    assert rows["shellcheck"]["ok"] is True
    assert rows["shellcheck"]["found"].startswith("0.")
    assert rows["nothere"]["found"] is None
    assert rows["nothere"]["install"] == "scripts/install-tools.sh nothere  # nothere-dist==1.0"
    assert rows["extra"]["required"] is False
    assert "nothere" in result.stderr
    assert "extra" not in result.stderr.split("missing or wrong:")[1]


def test_doctor_passes_when_only_optional_tools_are_missing(tmp_path, monkeypatch):
    write_lock(tmp_path, "extra go v1.0.0 example.org/extra no-such-binary-abc optional\n")
    monkeypatch.setenv("SHIPRAIL_ROOT", str(tmp_path))
    result = runner.invoke(app, ["doctor"])
    assert result.exit_code == 0
    assert "missing" in result.stderr


def test_doctor_reports_the_path_of_a_pinned_tool_found_outside_path(tmp_path, monkeypatch):
    """Run from a folder outside the repository with PATH stripped: the pinned directory is
    searched, and doctor names the binary it will use."""
    pinned = tmp_path / "pinned"
    pinned.mkdir()
    tool = pinned / "shiprail-fake-tool"
    tool.write_text("#!/bin/sh\necho 'shiprail-fake-tool 1.2.3'\n")
    tool.chmod(0o755)
    repo = tmp_path / "repo"
    repo.mkdir()
    write_lock(repo, "fake apt 1.2 fake shiprail-fake-tool required\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.setenv("SHIPRAIL_ROOT", str(repo))
    monkeypatch.setenv("SHIPRAIL_TOOLS_BIN", str(pinned))
    result = runner.invoke(app, ["doctor", "--json"])
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)["tools"]
    assert row["path"] == str(tool) and row["found"] == "1.2.3" and row["ok"] is True
    table = runner.invoke(app, ["doctor"])
    assert table.exit_code == 0 and "path" in table.stderr and str(pinned) in table.stderr


def test_doctor_failure_is_one_error_line_with_exit_3(tmp_path, monkeypatch):
    write_lock(tmp_path, "nothere pypi 1.0 nothere-dist no-such-binary-xyz required\n")
    monkeypatch.setenv("SHIPRAIL_ROOT", str(tmp_path))
    result = runner.invoke(app, ["doctor"])
    assert result.exit_code == 3
    assert "required tool(s) missing or wrong: nothere" in result.stderr
    assert "Traceback" not in result.output


def test_doctor_runs_from_a_folder_outside_any_repository(tmp_path, monkeypatch):
    """A user in another folder gets the lock (and tools) of the checkout shiprail runs from."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    result = runner.invoke(app, ["doctor", "--json"])
    rows = {row["name"]: row for row in json.loads(result.stdout)["tools"]}
    assert "helm" in rows and "bandit" in rows
    assert rows["bandit"]["path"] is None or "/.tools/" in rows["bandit"]["path"]


def test_a_system_prerequisite_is_checked_by_version_and_named_not_installed(tmp_path, monkeypatch):
    """A ``system`` tool (terraform) is found and version-checked like any other, and the hint
    says to install it on the machine: no script here can."""
    pinned = tmp_path / "pinned"
    pinned.mkdir()
    fake = pinned / "shiprail-fake-terraform"
    fake.write_text("#!/bin/sh\necho 'Terraform v1.11.4'\necho 'on linux_amd64'\n")
    fake.chmod(0o755)
    write_lock(
        tmp_path,
        "tf system 1.11 - shiprail-fake-terraform required\n"
        "tf-old system 1.10 - shiprail-fake-terraform optional\n"
        "absent system 2.0 - no-such-binary-sys required\n",
    )
    monkeypatch.setenv("SHIPRAIL_ROOT", str(tmp_path))
    monkeypatch.setenv("SHIPRAIL_TOOLS_BIN", str(pinned))
    result = runner.invoke(app, ["doctor", "--json"])
    rows = {row["name"]: row for row in json.loads(result.stdout)["tools"]}
    assert rows["tf"]["kind"] == "system"
    assert rows["tf"]["found"] == "1.11.4" and rows["tf"]["ok"] is True
    assert rows["tf-old"]["ok"] is False  # 1.11.4 is not the pinned 1.10
    assert rows["absent"]["found"] is None
    assert rows["absent"]["install"] == (
        "install absent 2.0 on this machine (not by install-tools.sh)"
    )
    assert result.exit_code == 3
    assert result.stderr.split("missing or wrong:")[1].split() == ["absent"]


def test_kubernetes_components_are_found_in_their_versioned_directory(tmp_path, monkeypatch):
    """A ``k8s`` line is checked in ``.tools/k8s/<version>/bin`` of the checkout (never on
    PATH), by the component's own ``--version``; a missing build names install-tools."""
    home = tmp_path / "home"
    bin_dir = home / ".tools" / "k8s" / "v1.34.2" / "bin"
    bin_dir.mkdir(parents=True)
    fake = bin_dir / "kube-apiserver"
    fake.write_text("#!/bin/sh\necho 'Kubernetes v1.34.2'\n")
    fake.chmod(0o755)
    write_lock(
        tmp_path,
        "kubernetes k8s v1.34.2 k8s.io/kubernetes kube-apiserver optional\n"
        "kube-next k8s v1.35.0 k8s.io/kubernetes kube-apiserver optional\n",
    )
    monkeypatch.setenv("SHIPRAIL_ROOT", str(tmp_path))
    monkeypatch.setenv("SHIPRAIL_HOME", str(home))
    result = runner.invoke(app, ["doctor", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.stdout)["tools"]}
    assert rows["kubernetes"]["path"] == str(fake) and rows["kubernetes"]["ok"] is True
    assert rows["kube-next"]["found"] is None
    table = runner.invoke(app, ["doctor"])
    assert "install-tools.sh kube-next" in table.stderr.replace("\n", "")
