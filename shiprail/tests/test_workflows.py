"""The GitHub workflows (.github/workflows): hardened, and thin.

Every ``run:`` step calls our own commands - ``make``, ``shiprail``, a script of
``scripts/`` - or a tool pinned in tools.lock from ``.tools/bin``. The shell glue allowed
besides is data plumbing only: ``echo``/``printf``/``cat`` into a file (``$GITHUB_OUTPUT``,
``$GITHUB_STEP_SUMMARY``, a secret file) or a workflow command (``::error::``), and
``export``, ``umask``, ``mkdir``, ``exit``. Every action is pinned by commit, no expression is
interpolated into a script, and the token's permissions start read-only.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS_DIR = REPO / ".github" / "workflows"
WORKFLOWS = sorted(WORKFLOWS_DIR.glob("*.y*ml"))

OURS = {"make", "shiprail", ".venv/bin/shiprail"}
DATA_GLUE = {"echo", "printf", "cat"}
SHELL_GLUE = {"export", "umask", "mkdir", "exit"}
OPERATORS = {";", "&&", "||", "|", "&"}
WRITE_SCOPES = {"contents", "id-token", "security-events"}
SHA_PIN = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
VERSION_COMMENT = re.compile(r"#\s*v\d+\.\d+\.\d+\s*$")


def _pinned_tools() -> set[str]:
    """Binaries of tools.lock (its fifth column): ``.tools/bin/<binary>`` is a pinned tool."""
    binaries = set()
    for line in (REPO / "tools.lock").read_text().splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) >= 5 and fields[4] != "-":
            binaries.add(fields[4])
    return binaries


PINNED = _pinned_tools()


@dataclass(frozen=True)
class Step:
    workflow: str
    job: str
    index: int
    step: dict[str, Any]

    @property
    def where(self) -> str:
        name = self.step.get("name") or self.step.get("uses") or self.step.get("run", "")
        return f"{self.workflow} {self.job} step {self.index} ({str(name).splitlines()[0]})"


def _load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict), path
    if True in data:  # YAML 1.1 reads the key `on` as a boolean
        data["on"] = data.pop(True)
    return data


def _triggers(workflow: dict[str, Any]) -> dict[str, Any]:
    on = workflow["on"]
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return dict.fromkeys(on)
    return dict(on)


def _jobs(workflow: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return workflow["jobs"]


def _steps() -> Iterator[Step]:
    for path in WORKFLOWS:
        for job_id, job in _jobs(_load(path)).items():
            for index, step in enumerate(job.get("steps") or [], start=1):
                yield Step(path.name, job_id, index, step)


def _run_steps() -> list[Step]:
    return [s for s in _steps() if "run" in s.step]


# -- the run: scripts ------------------------------------------------------------------------


def _substitutions(text: str) -> tuple[str, list[str]]:
    """``text`` with each ``$(...)`` replaced by ``__SUBSTn__``, and the scripts replaced."""
    out: list[str] = []
    found: list[str] = []
    i = 0
    while i < len(text):
        if not text.startswith("$(", i):
            out.append(text[i])
            i += 1
            continue
        depth, j, quote = 1, i + 2, ""
        while depth:
            char = text[j]
            if quote:
                quote = "" if char == quote else quote
            elif char in "'\"":
                quote = char
            elif char == "(":
                depth += 1
            elif char == ")":
                depth -= 1
            j += 1
        found.append(text[i + 2 : j - 1])
        out.append(f"__SUBST{len(found) - 1}__")
        i = j
    return "".join(out), found


def _ungroup(text: str) -> str:
    """``{ a; b; } >> FILE`` written over lines: each command with the group's redirect."""

    def spread(match: re.Match[str]) -> str:
        lines = [line for line in match.group(1).splitlines() if line.strip()]
        return "\n".join(f"{line} {match.group(2)}" for line in lines)

    return re.sub(r"(?ms)^\s*\{\s*$(.*?)^\s*\}\s*(>>?\s*\S+)\s*$", spread, text)


def _commands(line: str) -> Iterator[tuple[list[str], list[tuple[str, str]]]]:
    """The simple commands of one line: (words, redirections as (operator, target))."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|<>")
    lexer.whitespace_split = True
    lexer.commenters = ""
    words: list[str] = []
    redirects: list[tuple[str, str]] = []
    tokens = iter(lexer)
    for token in tokens:
        if token in OPERATORS:
            yield words, redirects
            words, redirects = [], []
        elif token in (">", ">>", "<"):
            redirects.append((token, next(tokens, "")))
        else:
            words.append(token)
    yield words, redirects


def script_violations(script: str) -> list[str]:
    """What in ``script`` is neither ours, a pinned tool, nor the allowed glue."""
    text = script.replace("\\\n", " ")
    text = "\n".join(line for line in text.splitlines() if not line.strip().startswith("#"))
    text, substitutions = _substitutions(text)
    text = _ungroup(text)
    problems: list[str] = []
    for inner in substitutions:
        problems += script_violations(inner)
    for line in text.splitlines():
        for words, redirects in _commands(line):
            while words and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[0]):
                words = words[1:]
            if words[:1] == ["sudo"]:
                words = words[1:]
                while words and words[0].startswith("-"):
                    words = words[1:]
            if not words:
                continue
            program = words[0]
            if program in OURS or program in SHELL_GLUE:
                continue
            if program.startswith("scripts/") and ".." not in program:
                continue
            if program.startswith(".tools/bin/") and program.removeprefix(".tools/bin/") in PINNED:
                continue
            if program in DATA_GLUE and (
                any(op in (">", ">>") for op, _ in redirects)
                or (program == "echo" and words[1:2] and words[1].startswith("::"))
            ):
                continue
            problems.append(" ".join(words))
    return problems


def test_the_script_rules_catch_what_they_should() -> None:
    """The checker itself, on scripts it must pass and fail."""
    good = """
        # a comment
        image=$(.venv/bin/shiprail build image)
        echo "image=$image" >> "$GITHUB_OUTPUT"
        sudo --preserve-env=X make lint && scripts/smoke.sh url "$URL" \\
          "$COMMIT"
        echo "::error::no state directory"
        export SHIPRAIL_STATE_DIR
        {
          echo "release<<EOF"
          cat "$RUNNER_TEMP/release.json"
          echo "EOF"
        } >> "$GITHUB_OUTPUT"
        .tools/bin/helm upgrade --install workorders helm/chart
    """
    assert script_violations(good) == []
    bad = {
        "curl -fsSL https://example.com/install.sh | bash": ["curl -fsSL", "bash"],
        "echo hello": ["echo hello"],
        "TOKEN=$(aws ecr get-login-password)": ["aws ecr get-login-password"],
        'echo "x=$(az acr login --name "$R")" >> "$GITHUB_ENV"': ["az acr login"],
        "if true; then make lint; fi": ["if true", "then make lint", "fi"],
        "docker build . && make lint": ["docker build ."],
        ".tools/bin/kubectl apply -f x.yaml": [".tools/bin/kubectl"],
    }
    for script, expected in bad.items():
        problems = script_violations(script)
        assert len(problems) == len(expected), (script, problems)
        assert all(p.startswith(e) for p, e in zip(problems, expected, strict=True)), problems


def test_every_run_step_calls_only_our_commands() -> None:
    problems = [f"{s.where}: {p}" for s in _run_steps() for p in script_violations(s.step["run"])]
    assert problems == [], "\n".join(problems)


def test_no_expression_is_interpolated_into_a_script() -> None:
    """Untrusted input (github.event.*, inputs.*) and everything else reach a script through
    env:, never as ${{ ... }} inside run: (script injection)."""
    offenders = [s.where for s in _run_steps() if "${{" in s.step["run"]]
    assert offenders == []


def test_every_script_a_workflow_calls_exists_and_is_executable() -> None:
    called = {
        match
        for s in _run_steps()
        for match in re.findall(r"(?<![\w/.])(scripts/[\w./-]+\.sh)\b", s.step["run"])
    }
    assert "scripts/bump-image-digest.sh" in called and "scripts/smoke.sh" in called
    missing = sorted(p for p in called if not (REPO / p).is_file())
    assert missing == [], f"workflows call scripts that are not in the repository: {missing}"
    assert all((REPO / p).stat().st_mode & 0o111 for p in called)


# -- actions, permissions, triggers ----------------------------------------------------------


def _uses_lines() -> Iterator[tuple[str, str, str]]:
    """(workflow, the action reference, the whole line) of every ``uses:``."""
    for path in WORKFLOWS:
        for line in path.read_text().splitlines():
            match = re.match(r"^\s*(?:-\s+)?uses:\s*(\S+)", line)
            if match:
                yield path.name, match.group(1), line


def test_every_action_is_pinned_by_commit_with_its_version() -> None:
    shas: dict[str, set[str]] = {}
    for workflow, ref, line in _uses_lines():
        if ref.startswith("./"):
            assert (REPO / ref).is_file(), f"{workflow}: {ref} does not exist"
            continue
        assert SHA_PIN.match(ref), f"{workflow}: {ref} is not pinned by a 40-hex commit"
        assert VERSION_COMMENT.search(line), f"{workflow}: {ref} has no '# vX.Y.Z' comment"
        action, sha = ref.split("@")
        shas.setdefault(action, set()).add(sha)
    assert {a: s for a, s in shas.items() if len(s) > 1} == {}, "one action, one pinned commit"


def test_permissions_start_read_only_and_widen_per_job() -> None:
    for path in WORKFLOWS:
        workflow = _load(path)
        assert workflow.get("permissions") == {"contents": "read"}, path.name
        for job_id, job in _jobs(workflow).items():
            permissions = job.get("permissions")
            assert isinstance(permissions, dict), f"{path.name} {job_id}: no permissions"
            writes = {scope for scope, level in permissions.items() if level == "write"}
            assert writes <= WRITE_SCOPES, f"{path.name} {job_id}: {writes}"
            if "contents" in writes:
                called = job.get("uses", "")
                text = (REPO / called).read_text() if called.startswith("./") else str(job)
                assert "scripts/bump-image-digest.sh --push" in text, (
                    f"{path.name} {job_id}: contents: write without a GitOps bump"
                )


def test_triggers_and_concurrency() -> None:
    for path in WORKFLOWS:
        workflow = _load(path)
        triggers = _triggers(workflow)
        assert "pull_request_target" not in triggers, path.name
        dispatch = triggers.get("workflow_dispatch") or {}
        assert not dispatch.get("inputs"), f"{path.name}: workflow_dispatch takes no inputs"
        if set(triggers) != {"workflow_call"}:
            assert "concurrency" in workflow, f"{path.name}: no concurrency group"
        for job_id, job in _jobs(workflow).items():
            if "environment" in job:
                assert job.get("concurrency") or workflow.get("concurrency"), (
                    f"{path.name} {job_id}: a deploy without a concurrency group"
                )
            if "concurrency" in job:
                assert job["concurrency"].get("cancel-in-progress") is False, (
                    f"{path.name} {job_id}: a deploy must never be cancelled half-way"
                )


def test_checkout_keeps_no_token_unless_the_job_pushes() -> None:
    for step in _steps():
        if not str(step.step.get("uses", "")).startswith("actions/checkout@"):
            continue
        persist = (step.step.get("with") or {}).get("persist-credentials")
        job = _jobs(_load(WORKFLOWS_DIR / step.workflow))[step.job]
        pushes = any("--push" in s.get("run", "") for s in job["steps"])
        assert persist is pushes, f"{step.where}: persist-credentials {persist}"


# -- what each workflow is for ---------------------------------------------------------------


def _workflow(name: str) -> dict[str, Any]:
    return _load(WORKFLOWS_DIR / name)


def test_the_set_of_workflows() -> None:
    names = {p.name for p in WORKFLOWS}
    assert names == {
        "ci.yml",
        "test.yml",
        "cd-aws.yml",
        "cd-azure.yml",
        "cicd.yml",
        "image-rescan.yml",
    }


def _runs(job: dict[str, Any]) -> str:
    return "\n".join(s.get("run", "") for s in job.get("steps") or [])


def test_ci_gates_then_publishes_keyless_then_deploys_dev_stage_prod() -> None:
    ci = _workflow("ci.yml")
    assert set(_triggers(ci)) == {"push", "pull_request", "workflow_dispatch"}
    jobs = _jobs(ci)
    assert jobs["test"]["uses"] == "./.github/workflows/test.yml"
    publish = jobs["publish"]
    assert publish["needs"] == "test"
    assert publish["permissions"] == {"contents": "read", "id-token": "write"}
    runs = _runs(publish)
    for command in ("shiprail build image", "shiprail image scan", "scripts/smoke.sh image"):
        assert command in runs
    assert runs.count('shiprail publish "$IMAGE" --keyless') == 2
    registries = [
        s["env"]["SHIPRAIL_PUBLISH_REGISTRY"] for s in publish["steps"] if "env" in s and "id" in s
    ]
    assert registries == ["${{ vars.ECR_REGISTRY }}", "${{ vars.ACR_REGISTRY }}"]
    for cloud, workflow in (("eks", "cd-aws.yml"), ("aks", "cd-azure.yml")):
        chain = [jobs[f"{cloud}-{env}"] for env in ("dev", "stage", "prod")]
        assert [j["with"]["environment"] for j in chain] == ["dev", "stage", "prod"]
        assert all(j["uses"] == f"./.github/workflows/{workflow}" for j in chain)
        assert chain[0]["needs"] == "publish" and "refs/heads/main" in chain[0]["if"]
        assert chain[1]["needs"] == ["publish", f"{cloud}-dev"]
        assert chain[2]["needs"] == ["publish", f"{cloud}-stage"]


def test_the_gate_is_make_targets_with_sarif_and_a_summary() -> None:
    (job,) = _jobs(_workflow("test.yml")).values()
    runs = _runs(job)
    # what `make test` runs, target by target, in its order
    makefile = (REPO / "Makefile").read_text()
    recipe = makefile.split("\ntest:", 1)[1].split("\n\n", 1)[0]
    targets = re.findall(r"\$\(MAKE\) ([\w-]+)", recipe)
    assert "lint" in targets and "test-shiprail" in targets
    steps = re.findall(r"make ([\w-]+)", runs)
    assert steps == ["services", *targets]
    assert 'cat reports/scan.md >> "$GITHUB_STEP_SUMMARY"' in runs
    uses = [s.get("uses", "") for s in job["steps"]]
    assert any(u.startswith("github/codeql-action/upload-sarif@") for u in uses)
    assert job["permissions"]["security-events"] == "write"


@pytest.mark.parametrize(
    ("name", "cloud", "login", "kubeconfig"),
    [
        ("cd-aws.yml", "eks", "aws-actions/configure-aws-credentials@", "get-eks-kubeconfig.sh"),
        ("cd-azure.yml", "aks", "azure/login@", "get-aks-kubeconfig.sh"),
    ],
)
def test_cd_workflows(name: str, cloud: str, login: str, kubeconfig: str) -> None:
    workflow = _workflow(name)
    assert set(_triggers(workflow)) == {"workflow_call"}
    jobs = _jobs(workflow)
    for job in jobs.values():
        assert job["environment"] == "${{ inputs.environment }}"
        assert "scripts/smoke.sh url" in _runs(job)
    promote, deploy = jobs["promote"], jobs["deploy"]
    assert "vars.GITOPS != 'false'" in promote["if"] and "vars.GITOPS == 'false'" in deploy["if"]
    assert promote["env"]["VALUES"] == f"helm/values-{cloud}-${{{{ inputs.environment }}}}.yaml"
    assert 'scripts/bump-image-digest.sh --push "$GITOPS_BRANCH"' in _runs(promote)
    assert promote["permissions"] == {"contents": "write"}
    assert deploy["permissions"] == {"contents": "read", "id-token": "write"}
    assert any(str(s.get("uses", "")).startswith(login) for s in deploy["steps"])
    runs = _runs(deploy)
    assert f"scripts/{kubeconfig}" in runs
    assert "helm upgrade --install --atomic" in runs and f"helm/values-{cloud}-$ENVIRONMENT" in runs


def test_single_vm_releases() -> None:
    cicd = _workflow("cicd.yml")
    jobs = _jobs(cicd)
    assert jobs["ci"]["uses"] == "./.github/workflows/test.yml"
    dev, prod = jobs["deploy-dev"], jobs["deploy-prod"]
    assert dev["needs"] == "ci" and dev["runs-on"] == ["self-hosted", "shiprail", "dev"]
    assert prod["needs"] == "deploy-dev" and prod["runs-on"] == ["self-hosted", "shiprail", "prod"]
    assert prod["environment"] == "prod"
    dev_runs, prod_runs = _runs(dev), _runs(prod)
    assert "make tools" in dev_runs and "make tools" in prod_runs
    order = [
        "shiprail build image",
        "shiprail image scan",
        "shiprail registry up",
        "shiprail publish",
        "shiprail verify",
        ".shiprail/demo/api-token.sha256",
        "shiprail deploy dev",
    ]
    positions = [dev_runs.index(command) for command in order]
    assert positions == sorted(positions)
    assert "shiprail approve prod" in prod_runs and "shiprail promote dev prod" in prod_runs
    # the ledger lives outside the checkout, and the secrets come from GitHub
    for job in (dev, prod):
        assert job["env"]["SHIPRAIL_STATE_DIR"] == "${{ vars.SHIPRAIL_STATE_DIR }}"
        assert job["env"]["SHIPRAIL_DATABASE_URL"] == "${{ secrets.SHIPRAIL_DATABASE_URL }}"
        guard = job["steps"][0]
        assert "startsWith(vars.SHIPRAIL_STATE_DIR, github.workspace)" in guard["if"]
    secrets = str(dev) + str(prod)
    for name in ("WORKORDERS_DEV_TOKEN_HASHES", "WORKORDERS_PROD_TOKEN_HASHES", "COSIGN_PASSWORD"):
        assert f"secrets.{name}" in secrets
    shiprail_yaml = (REPO / "shiprail.yaml").read_text()
    assert "WORKORDERS_PROD_TOKEN_HASHES" in shiprail_yaml
    assert ".shiprail/demo/api-token.sha256" in shiprail_yaml


def test_image_rescan_also_scans_the_base_image() -> None:
    (job,) = _jobs(_workflow("image-rescan.yml")).values()
    runs = _runs(job)
    assert "shiprail image rescan" in runs
    assert "shiprail build base-image" in runs and 'shiprail image scan "$IMAGE"' in runs
    assert "schedule" in _triggers(_workflow("image-rescan.yml"))
