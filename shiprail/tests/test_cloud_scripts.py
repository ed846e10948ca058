"""scripts/login-{ecr,acr}.sh and scripts/get-{eks,aks}-kubeconfig.sh, with stand-ins for the
cloud CLIs: small bash scripts first on PATH that log their arguments (one call a line, the
arguments separated by tabs) and print canned output. Nothing here reaches a cloud.

Each script runs with a PATH of only the stand-ins and a few basic utilities, so a real
``aws`` or ``az`` on the machine never answers instead, and the missing-tool case is real.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from conftest import require_tools

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "scripts"
OWN = [
    "scripts/login-ecr.sh",
    "scripts/login-acr.sh",
    "scripts/get-eks-kubeconfig.sh",
    "scripts/get-aks-kubeconfig.sh",
    "scripts/lib/cloud.sh",
]
#: What the scripts and the stand-ins need besides the cloud CLIs.
BASICS = ["bash", "dirname", "basename", "tr", "mktemp", "chmod", "mv", "rm", "mkdir", "cat"]
ECR_HOST = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
ECR_TOKEN = "ecr-stand-in-token-for-tests"
ACR_TOKEN = "acr-stand-in-token-for-tests"
ACR_USER = "00000000-0000-0000-0000-000000000000"

STUB = """#!{bash}
# stand-in for {name}: log the call, then answer as the real one would
{{ printf '%s' {name}; printf '\\t%s' "$@"; printf '\\n'; }} >> "$STUB_LOG"
if [ "${{STUB_FAIL:-}}" = {name} ]; then
  echo "{name}: simulated failure (An error occurred: not authorized)" >&2
  exit 255
fi
{body}
"""

BODIES = {
    "aws": f"""case "$1 $2" in
  "ecr get-login-password") printf '%s\\n' {ECR_TOKEN} ;;
  "eks update-kubeconfig")
    while [ $# -gt 0 ]; do [ "$1" = --kubeconfig ] && file=$2; shift; done
    printf 'apiVersion: v1\\nkind: Config\\n' > "$file"
    echo "Added new context arn:aws:eks:eu-west-1:123456789012:cluster/prod to $file" ;;
  *) echo "aws: unexpected call" >&2; exit 2 ;;
esac""",
    "az": f"""case "$1 $2" in
  "acr login") printf '%s\\n' {ACR_TOKEN} ;;
  "aks get-credentials")
    while [ $# -gt 0 ]; do [ "$1" = --file ] && file=$2; shift; done
    printf 'apiVersion: v1\\nkind: Config\\n' > "$file"
    echo "Merged \\"prod\\" as current context in $file" ;;
  *) echo "az: unexpected call" >&2; exit 2 ;;
esac""",
    "kubelogin": """while [ $# -gt 0 ]; do [ "$1" = --kubeconfig ] && file=$2; shift; done
printf '# converted: azurecli\\n' >> "$file\"""",
    "docker": """cat > "$STUB_STDIN"
echo "Login Succeeded\"""",
}


class World:
    """A tmp directory with the stand-ins, a basic-utilities PATH and the call log."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.stubs = tmp / "stubs"
        self.basics = tmp / "basics"
        self.log = tmp / "calls.log"
        self.stdin = tmp / "docker-stdin"
        self.state = tmp / "state"
        for directory in (self.stubs, self.basics):
            directory.mkdir()
        for name in BASICS:
            found = shutil.which(name)
            assert found, f"{name} is needed to run the scripts"
            (self.basics / name).symlink_to(found)
        bash = shutil.which("bash")
        for name, body in BODIES.items():
            stub = self.stubs / name
            stub.write_text(STUB.format(bash=bash, name=name, body=body))
            stub.chmod(0o755)

    def remove(self, name: str) -> None:
        (self.stubs / name).unlink()

    def run(
        self, script: str, *args: str, stubs: bool = True, scripts: Path = SCRIPTS, **env: str
    ) -> subprocess.CompletedProcess[str]:
        path = [str(self.stubs)] if stubs else []
        environment = {
            "PATH": os.pathsep.join([*path, str(self.basics)]),
            "HOME": str(self.tmp),
            "STUB_LOG": str(self.log),
            "STUB_STDIN": str(self.stdin),
            "SHIPRAIL_STATE_DIR": str(self.state),
            **env,
        }
        return subprocess.run(
            [str(scripts / script), *args],
            env=environment,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )

    def calls(self) -> list[list[str]]:
        if not self.log.exists():
            return []
        return [line.split("\t") for line in self.log.read_text().splitlines()]


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _never_shown(result: subprocess.CompletedProcess[str], token: str) -> None:
    assert token not in result.stdout, "the token reached stdout"
    assert token not in result.stderr, "the token reached stderr"


# -- the scripts as files -------------------------------------------------------------------


def test_the_scripts_are_shellcheck_clean() -> None:
    require_tools("shellcheck")
    result = subprocess.run(
        ["shellcheck", "-x", *OWN], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("script", [p for p in OWN if not p.startswith("scripts/lib/")])
def test_each_script_is_an_executable_strict_bash_script(script: str) -> None:
    path = REPO / script
    text = path.read_text()
    assert text.startswith("#!/usr/bin/env bash\n")
    assert "\nset -euo pipefail\n" in text
    assert os.access(path, os.X_OK)


# -- usage and exit codes -------------------------------------------------------------------

#: The usage line of each script, after "usage: scripts/<script> ".
USAGE = {
    "login-ecr.sh": "[--env-file FILE] [--docker] REGISTRY_HOST [REGION]",
    "login-acr.sh": "[--env-file FILE] [--docker] REGISTRY_NAME",
    "get-eks-kubeconfig.sh": "CLUSTER REGION [KUBECONFIG]",
    "get-aks-kubeconfig.sh": "RESOURCE_GROUP CLUSTER [KUBECONFIG]",
}
WRONG = {
    "login-ecr.sh": [[], ["--env-file", "e"], [ECR_HOST, "eu-west-1", "x", "--env-file", "e"],
                     ["--bogus", ECR_HOST], ["--env-file"], [ECR_HOST, "--env-file="]],
    "login-acr.sh": [[], ["--env-file", "e"], ["a", "b", "--env-file", "e"], ["--bogus", "myteam"],
                     ["myteam", "--env-file"]],
    "get-eks-kubeconfig.sh": [[], ["prod"], ["prod", "eu-west-1", "k", "extra"]],
    "get-aks-kubeconfig.sh": [[], ["rg"], ["rg", "prod", "k", "extra"]],
}  # fmt: skip


@pytest.mark.parametrize("script", sorted(USAGE))
@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_help_prints_the_usage_and_exits_0(world: World, script: str, flag: str) -> None:
    result = world.run(script, flag)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: scripts/{script} {USAGE[script]}\n")
    assert result.stderr == ""
    assert world.calls() == []


@pytest.mark.parametrize("script", sorted(USAGE))
def test_wrong_arguments_print_the_usage_on_stderr_and_exit_2(world: World, script: str) -> None:
    for args in WRONG[script]:
        result = world.run(script, *args)
        assert result.returncode == 2, (args, result.stderr)
        assert f"{script}: error: " in result.stderr
        assert f"usage: scripts/{script} {USAGE[script]}\n" in result.stderr
        assert result.stdout == ""
    assert world.calls() == []


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["registry.example.org"], "cannot read the region from 'registry.example.org'"),
        ([f"https://{ECR_HOST}"], "is not a registry host"),
        ([f"{ECR_HOST}/workorders"], "is not a registry host"),
        ([ECR_HOST, "Europe"], "'Europe' is not an AWS region"),
    ],
)
def test_login_ecr_refuses_a_host_it_cannot_use(world: World, args: list[str], reason: str) -> None:
    result = world.run("login-ecr.sh", "--env-file", str(world.tmp / "env"), *args)
    assert result.returncode == 2 and reason in result.stderr, result.stderr
    assert world.calls() == []


def test_a_login_with_nowhere_to_put_the_token_is_refused(world: World) -> None:
    result = world.run("login-ecr.sh", ECR_HOST)
    assert result.returncode == 2
    assert "nowhere to put the token" in result.stderr
    assert world.calls() == [], "no token is fetched that could only be printed"


def test_an_env_file_in_a_missing_directory_is_refused_before_any_call(world: World) -> None:
    env_file = world.tmp / "no-such-dir" / "registry.env"
    result = world.run("login-acr.sh", "--env-file", str(env_file), "myteam")
    assert result.returncode == 2
    assert "the directory" in result.stderr and "does not exist" in result.stderr
    assert world.calls() == []


@pytest.mark.parametrize(
    ("script", "args", "tool", "hint"),
    [
        ("login-ecr.sh", ["--env-file", "env", ECR_HOST], "aws", "getting-started-install"),
        ("login-acr.sh", ["--env-file", "env", "myteam"], "az", "install-azure-cli"),
        ("get-eks-kubeconfig.sh", ["prod", "eu-west-1"], "aws", "getting-started-install"),
        ("get-aks-kubeconfig.sh", ["rg-prod", "prod"], "az", "install-azure-cli"),
    ],
)
def test_a_missing_cloud_cli_exits_3_with_an_install_hint(
    world: World, script: str, args: list[str], tool: str, hint: str
) -> None:
    args = [str(world.tmp / a) if a == "env" else a for a in args]
    result = world.run(script, *args, stubs=False)
    assert result.returncode == 3, result.stderr
    assert f"error: '{tool}' is not installed: install it (" in result.stderr
    assert hint in result.stderr
    assert result.stdout == ""
    assert not (world.tmp / "env").exists()
    assert not world.state.exists(), "nothing is written before the tool is found"


# -- ECR ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "region"),
    [
        (ECR_HOST, "eu-west-1"),
        ("123456789012.dkr.ecr.us-gov-west-1.amazonaws.com", "us-gov-west-1"),
        ("123456789012.dkr.ecr-fips.us-east-1.amazonaws.com", "us-east-1"),
        ("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", "cn-north-1"),
    ],
)
def test_login_ecr_writes_an_env_file_only_the_owner_reads(
    world: World, host: str, region: str
) -> None:
    env_file = world.tmp / "registry.env"
    result = world.run("login-ecr.sh", "--env-file", str(env_file), host)
    assert result.returncode == 0, result.stderr
    assert world.calls() == [["aws", "ecr", "get-login-password", "--region", region]]
    assert env_file.read_text() == (
        f"SHIPRAIL_REGISTRY_USERNAME=AWS\nSHIPRAIL_REGISTRY_PASSWORD={ECR_TOKEN}\n"
    )
    assert _mode(env_file) == 0o600
    assert result.stdout == ""
    assert f"to {env_file}" in result.stderr
    _never_shown(result, ECR_TOKEN)


def test_login_ecr_takes_the_region_given_and_replaces_a_readable_env_file(world: World) -> None:
    env_file = world.tmp / "registry.env"
    env_file.write_text("OLD=stale\n")
    env_file.chmod(0o644)
    result = world.run("login-ecr.sh", f"--env-file={env_file}", ECR_HOST, "eu-central-1")
    assert result.returncode == 0, result.stderr
    assert world.calls() == [["aws", "ecr", "get-login-password", "--region", "eu-central-1"]]
    assert env_file.read_text().startswith("SHIPRAIL_REGISTRY_USERNAME=AWS\n")
    assert _mode(env_file) == 0o600
    assert [p.name for p in world.tmp.iterdir() if p.name.startswith(".shiprail-env")] == []


def test_login_ecr_in_github_actions_masks_the_token_and_appends_to_github_env(
    world: World,
) -> None:
    github_env = world.tmp / "github_env"
    github_env.write_text("EARLIER=1\n")
    result = world.run("login-ecr.sh", ECR_HOST, GITHUB_ENV=str(github_env), GITHUB_ACTIONS="true")
    assert result.returncode == 0, result.stderr
    assert github_env.read_text() == (
        f"EARLIER=1\nSHIPRAIL_REGISTRY_USERNAME=AWS\nSHIPRAIL_REGISTRY_PASSWORD={ECR_TOKEN}\n"
    )
    # the one line that carries the token is the runner's mask command, which the log hides
    assert result.stdout == f"::add-mask::{ECR_TOKEN}\n"
    assert ECR_TOKEN not in result.stderr


def test_an_env_file_given_wins_over_github_env(world: World) -> None:
    github_env, env_file = world.tmp / "github_env", world.tmp / "registry.env"
    github_env.write_text("")
    result = world.run(
        "login-ecr.sh", "--env-file", str(env_file), ECR_HOST, GITHUB_ENV=str(github_env)
    )
    assert result.returncode == 0, result.stderr
    assert github_env.read_text() == ""
    assert "SHIPRAIL_REGISTRY_PASSWORD=" in env_file.read_text()
    _never_shown(result, ECR_TOKEN)


def test_login_ecr_docker_hands_the_token_over_stdin(world: World) -> None:
    result = world.run("login-ecr.sh", "--docker", ECR_HOST)
    assert result.returncode == 0, result.stderr
    assert world.calls() == [
        ["aws", "ecr", "get-login-password", "--region", "eu-west-1"],
        ["docker", "login", "--username", "AWS", "--password-stdin", ECR_HOST],
    ]
    assert world.stdin.read_text() == ECR_TOKEN
    assert result.stdout == "", "docker's own output goes to stderr"
    assert "Login Succeeded" in result.stderr
    _never_shown(result, ECR_TOKEN)


def test_login_ecr_docker_without_docker_exits_3(world: World) -> None:
    world.remove("docker")
    result = world.run("login-ecr.sh", "--docker", ECR_HOST)
    assert result.returncode == 3
    assert "'docker' is not installed" in result.stderr
    assert world.calls() == [], "checked before a token is fetched"


def test_a_failed_aws_call_exits_1_and_writes_nothing(world: World) -> None:
    env_file = world.tmp / "registry.env"
    result = world.run("login-ecr.sh", "--env-file", str(env_file), ECR_HOST, STUB_FAIL="aws")
    assert result.returncode == 1
    assert "simulated failure" in result.stderr, "the CLI's own reason is shown"
    assert "error: aws ecr get-login-password --region eu-west-1 failed" in result.stderr
    assert "aws sts get-caller-identity" in result.stderr
    assert not env_file.exists()


def test_a_failed_docker_login_exits_1(world: World) -> None:
    result = world.run("login-ecr.sh", "--docker", ECR_HOST, STUB_FAIL="docker")
    assert result.returncode == 1
    assert f"error: docker login {ECR_HOST} failed" in result.stderr
    _never_shown(result, ECR_TOKEN)


# -- ACR ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "name", "host"),
    [
        ("myteam", "myteam", "myteam.azurecr.io"),
        ("MyTeam", "MyTeam", "myteam.azurecr.io"),
        ("myteam.azurecr.io", "myteam", "myteam.azurecr.io"),
    ],
)
def test_login_acr_writes_the_token_user_and_logs_docker_in(
    world: World, given: str, name: str, host: str
) -> None:
    env_file = world.tmp / "registry.env"
    result = world.run("login-acr.sh", "--env-file", str(env_file), "--docker", given)
    assert result.returncode == 0, result.stderr
    assert world.calls() == [
        ["az", "acr", "login", "--name", name, "--expose-token", "--output", "tsv",
         "--query", "accessToken", "--only-show-errors"],
        ["docker", "login", "--username", ACR_USER, "--password-stdin", host],
    ]  # fmt: skip
    assert env_file.read_text() == (
        f"SHIPRAIL_REGISTRY_USERNAME={ACR_USER}\nSHIPRAIL_REGISTRY_PASSWORD={ACR_TOKEN}\n"
    )
    assert _mode(env_file) == 0o600
    assert world.stdin.read_text() == ACR_TOKEN
    assert result.stdout == ""
    _never_shown(result, ACR_TOKEN)


def test_login_acr_refuses_a_name_acr_would_not_accept(world: World) -> None:
    for bad in ("my-team", "abc", "https://myteam.azurecr.io"):
        result = world.run("login-acr.sh", "--env-file", str(world.tmp / "env"), bad)
        assert result.returncode == 2, (bad, result.stderr)
    assert world.calls() == []


def test_a_failed_az_call_exits_1_and_writes_nothing(world: World) -> None:
    env_file = world.tmp / "registry.env"
    result = world.run("login-acr.sh", "--env-file", str(env_file), "myteam", STUB_FAIL="az")
    assert result.returncode == 1
    assert "error: az acr login --name myteam failed" in result.stderr
    assert not env_file.exists()


# -- kubeconfigs ----------------------------------------------------------------------------


def test_eks_kubeconfig_goes_to_the_state_dir_and_its_path_to_stdout(world: World) -> None:
    result = world.run("get-eks-kubeconfig.sh", "prod", "eu-west-1")
    assert result.returncode == 0, result.stderr
    kubeconfig = world.state / "kube" / "eks-prod.yaml"
    assert world.calls() == [
        ["aws", "eks", "update-kubeconfig", "--name", "prod", "--region", "eu-west-1",
         "--kubeconfig", str(kubeconfig)],
    ]  # fmt: skip
    assert result.stdout == f"{kubeconfig}\n", "only the path: aws's own line goes to stderr"
    assert "Added new context" in result.stderr
    assert _mode(kubeconfig) == 0o600
    assert _mode(kubeconfig.parent) == 0o700
    # .shiprail/ sits in the checkout by default: the kubeconfigs never show up in git status
    assert (kubeconfig.parent / ".gitignore").read_text() == "*\n"


def test_eks_kubeconfig_to_a_file_given_is_made_private(world: World) -> None:
    (world.tmp / "kube").mkdir()
    kubeconfig = world.tmp / "kube" / "mine.yaml"
    kubeconfig.write_text("")
    kubeconfig.chmod(0o644)
    result = world.run("get-eks-kubeconfig.sh", "prod", "us-east-2", str(kubeconfig))
    assert result.returncode == 0, result.stderr
    assert world.calls()[0][-1] == str(kubeconfig)
    assert result.stdout == f"{kubeconfig}\n"
    assert _mode(kubeconfig) == 0o600
    assert not (kubeconfig.parent / ".gitignore").exists(), "a directory given is left as it is"
    assert not world.state.exists()


def test_kubeconfig_default_without_a_state_dir_is_in_the_repository(
    world: World, tmp_path: Path
) -> None:
    repo = tmp_path / "repo"
    (repo / "scripts" / "lib").mkdir(parents=True)
    for name in ("get-eks-kubeconfig.sh", "lib/cloud.sh"):
        shutil.copy2(SCRIPTS / name, repo / "scripts" / name)
    result = world.run(
        "get-eks-kubeconfig.sh",
        "prod",
        "eu-west-1",
        scripts=repo / "scripts",
        SHIPRAIL_STATE_DIR="",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{repo / '.shiprail' / 'kube' / 'eks-prod.yaml'}\n"
    git = shutil.which("git")
    if git:  # the kubeconfig stays out of git status (and so out of a dirty-tree refusal)
        subprocess.run([git, "init", "-q", str(repo)], check=True)
        status = subprocess.run(
            [git, "-C", str(repo), "status", "--porcelain", "--untracked-files=all"],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        assert ".shiprail" not in status.stdout


def test_a_failed_eks_call_exits_1_and_prints_no_path(world: World) -> None:
    result = world.run("get-eks-kubeconfig.sh", "prod", "eu-west-1", STUB_FAIL="aws")
    assert result.returncode == 1
    assert "error: aws eks update-kubeconfig --name prod --region eu-west-1 failed" in result.stderr
    assert result.stdout == ""


def test_eks_refuses_a_cluster_name_that_is_no_file_name(world: World) -> None:
    result = world.run("get-eks-kubeconfig.sh", "../prod", "eu-west-1")
    assert result.returncode == 2 and "not an EKS cluster name" in result.stderr
    assert world.calls() == []


def test_aks_kubeconfig_is_converted_with_kubelogin(world: World) -> None:
    result = world.run("get-aks-kubeconfig.sh", "rg-prod", "prod")
    assert result.returncode == 0, result.stderr
    kubeconfig = world.state / "kube" / "aks-prod.yaml"
    assert world.calls() == [
        ["az", "aks", "get-credentials", "--resource-group", "rg-prod", "--name", "prod",
         "--file", str(kubeconfig), "--overwrite-existing"],
        ["kubelogin", "convert-kubeconfig", "-l", "azurecli", "--kubeconfig", str(kubeconfig)],
    ]  # fmt: skip
    assert kubeconfig.read_text().endswith("# converted: azurecli\n")
    assert result.stdout == f"{kubeconfig}\n"
    assert "Merged" in result.stderr
    assert _mode(kubeconfig) == 0o600


def test_aks_without_kubelogin_says_what_it_is_needed_for(world: World) -> None:
    world.remove("kubelogin")
    result = world.run("get-aks-kubeconfig.sh", "rg-prod", "prod")
    assert result.returncode == 0, result.stderr
    assert [call[0] for call in world.calls()] == ["az"]
    assert "warning: kubelogin is not installed" in result.stderr
    assert "local accounts disabled" in result.stderr and "az aks install-cli" in result.stderr
    assert result.stdout == f"{world.state / 'kube' / 'aks-prod.yaml'}\n"


def test_a_failed_aks_call_exits_1_before_kubelogin(world: World) -> None:
    result = world.run("get-aks-kubeconfig.sh", "rg-prod", "prod", STUB_FAIL="az")
    assert result.returncode == 1
    assert "error: az aks get-credentials --resource-group rg-prod --name prod failed" in (
        result.stderr
    )
    assert [call[0] for call in world.calls()] == ["az"]
    assert result.stdout == ""
