"""checkov, run and parsed in one place for every caller: the ``checkov`` scanner of
``shiprail scan`` (Terraform, Dockerfiles, workflows, manifests on disk) and ``shiprail k8s
check`` (rendered chart objects, committed manifests, the Terraform modules).

Runs use ``--skip-download`` (no platform calls). Offline checkov reports no severity, so
every caller takes it from :func:`severity_of`: a project's own overrides first, then
``SEVERITIES`` below, then the caller's default (medium unless configured).

A :data:`Runner` executes checkov and returns its JSON text; tests pass a fake one to see
which paths are scanned, and how often.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shiprail import _subprocess
from shiprail.errors import ToolCrashed
from shiprail.findings import Severity

TIMEOUT_SECONDS = 600.0
INSTALL_HINT = "scripts/install-tools.sh checkov"
#: no calls to the vendor's platform, no package scan (the dependency scanners do that)
ENV = {"BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"}
_NO_REASON = {"", "no comment provided"}

C, H, M, L = Severity.critical, Severity.high, Severity.medium, Severity.low

#: Our severity for checkov checks (offline checkov reports none). Unlisted: medium.
SEVERITIES: dict[str, Severity] = {
    # AWS: public exposure, world-open admin ports, secrets, encryption
    "CKV_AWS_20": C,  # S3 bucket ACL allows public READ
    "CKV_AWS_57": C,  # S3 bucket ACL allows public WRITE
    "CKV_AWS_24": H,  # security group allows ingress 0.0.0.0/0 to port 22
    "CKV_AWS_25": H,  # ... to port 3389
    "CKV_AWS_260": M,  # ... to port 80
    "CKV_AWS_277": H,  # security group allows ingress from 0.0.0.0/0 to all ports
    "CKV_AWS_53": H,  # S3 block public ACLs
    "CKV_AWS_54": H,  # S3 block public policy
    "CKV_AWS_55": H,  # S3 ignore public ACLs
    "CKV_AWS_56": H,  # S3 restrict public buckets
    "CKV2_AWS_6": H,  # S3 bucket has a public access block
    "CKV_AWS_41": C,  # AWS access keys hard-coded in provider
    "CKV_AWS_46": C,  # secrets in EC2 user data
    "CKV_AWS_17": H,  # RDS publicly accessible
    "CKV_AWS_16": H,  # RDS storage not encrypted
    "CKV_AWS_3": H,  # EBS not encrypted
    "CKV_AWS_39": H,  # EKS public endpoint
    "CKV_AWS_38": H,  # EKS public access CIDR 0.0.0.0/0
    "CKV_AWS_1": H,  # IAM policy with "*" admin privileges
    "CKV_AWS_62": H,  # Lambda/IAM full admin
    "CKV_AWS_8": M,  # launch configuration EBS encryption
    "CKV_AWS_18": L,  # S3 access logging
    "CKV_AWS_144": L,  # S3 cross-region replication
    "CKV_AWS_145": M,  # S3 KMS encryption
    "CKV_AWS_21": L,  # S3 versioning
    "CKV2_AWS_62": L,  # S3 event notifications
    "CKV2_AWS_61": L,  # S3 lifecycle configuration
    "CKV_AWS_23": L,  # security group rule descriptions
    # Azure
    "CKV_AZURE_10": H,  # NSG allows SSH from the internet
    "CKV_AZURE_9": H,  # NSG allows RDP from the internet
    "CKV_AZURE_59": H,  # storage account allows public access
    "CKV_AZURE_190": H,  # storage blobs allow public access
    "CKV_AZURE_3": H,  # storage account without secure transfer (HTTPS)
    "CKV_AZURE_44": H,  # storage account TLS < 1.2
    "CKV_AZURE_6": H,  # AKS API server open to all
    "CKV_AZURE_115": M,  # AKS private cluster
    # Kubernetes
    "CKV_K8S_16": H,  # privileged container
    "CKV_K8S_17": H,  # shares the host PID namespace
    "CKV_K8S_18": H,  # shares the host IPC namespace
    "CKV_K8S_19": H,  # shares the host network
    "CKV_K8S_27": C,  # mounts the Docker socket
    "CKV_K8S_20": M,  # allowPrivilegeEscalation
    "CKV_K8S_23": M,  # admission of root containers
    "CKV_K8S_6": M,  # root containers
    "CKV_K8S_40": M,  # high UID
    "CKV_K8S_28": M,  # NET_RAW capability
    "CKV_K8S_39": H,  # SYS_ADMIN capability
    "CKV_K8S_14": M,  # image tag latest / missing
    "CKV_K8S_43": L,  # image digest
    "CKV_K8S_8": L,  # liveness probe
    "CKV_K8S_9": L,  # readiness probe
    "CKV_K8S_10": L,  # CPU requests
    "CKV_K8S_11": L,  # CPU limits
    "CKV_K8S_12": L,  # memory requests
    "CKV_K8S_13": L,  # memory limits
    "CKV_K8S_15": L,  # image pull policy Always
    "CKV_K8S_21": L,  # default namespace
    "CKV_K8S_22": L,  # read-only root filesystem
    "CKV_K8S_29": L,  # securityContext on pods
    "CKV_K8S_30": L,  # securityContext on containers
    "CKV_K8S_31": L,  # seccomp profile
    "CKV_K8S_35": L,  # secrets as env vars
    "CKV_K8S_37": L,  # capabilities dropped
    "CKV_K8S_38": L,  # service account token mounted
    "CKV2_K8S_6": L,  # network policy
    # Dockerfiles
    "CKV_DOCKER_8": H,  # last USER is root
    "CKV_DOCKER_3": H,  # no non-root USER created
    "CKV_DOCKER_1": H,  # port 22 exposed
    "CKV_DOCKER_7": M,  # base image uses latest tag
    "CKV_DOCKER_4": M,  # ADD instead of COPY
    "CKV_DOCKER_5": L,  # update alone in RUN
    "CKV_DOCKER_9": L,  # apt instead of apt-get
    "CKV_DOCKER_2": L,  # no HEALTHCHECK
    "CKV_DOCKER_11": L,  # FROM alias unique
    # GitHub Actions
    "CKV_GHA_1": H,  # ACTIONS_ALLOW_UNSECURE_COMMANDS
    "CKV_GHA_2": H,  # run command vulnerable to shell injection
    "CKV_GHA_3": H,  # suspicious curl with secrets
    "CKV_GHA_7": M,  # workflow_dispatch inputs in build output
    "CKV2_GHA_1": M,  # top-level permissions not read-only
}


def severity_of(
    check_id: str,
    overrides: Mapping[str, str] | None = None,
    default: str = Severity.medium,
) -> Severity:
    """Our severity of a checkov check: the caller's override, our table, else ``default``."""
    if overrides and check_id in overrides:
        return Severity(overrides[check_id])
    return SEVERITIES.get(check_id, Severity(default))


@dataclass(frozen=True)
class CheckovResult:
    """One failed (or inline-skipped) check, as checkov reported it."""

    check_id: str
    name: str
    #: checkov's framework of the report: terraform, kubernetes, dockerfile, github_actions
    check_type: str
    #: the file, relative to the scanned directory (``-d``) or working directory (``-f``)
    path: str
    line: int
    end_line: int
    resource: str
    guideline: str | None
    #: True for a ``checkov:skip`` comment; ``skip_reason`` is None when it gave no reason
    skipped: bool = False
    skip_reason: str | None = None


#: (arguments, working directory, timeout) -> checkov's JSON output
Runner = Callable[[Sequence[str], Path, float], str]


def run_tool(args: Sequence[str], cwd: Path, timeout: float) -> str:
    """The real runner: checkov through the one subprocess wrapper."""
    result = _subprocess.run(
        args, cwd=cwd, timeout=timeout, env=ENV, ok_codes=None, install_hint=INSTALL_HINT
    )
    if result.returncode not in (0, 1):
        raise ToolCrashed(f"checkov exited with {result.returncode}: {result.stderr[-400:]}")
    return result.stdout


def run(
    cwd: Path,
    *,
    frameworks: Sequence[str],
    files: Sequence[str] = (),
    directory: str | None = None,
    timeout: float = TIMEOUT_SECONDS,
    runner: Runner | None = None,
) -> list[CheckovResult]:
    """Run checkov once over ``files`` (``-f`` each) or ``directory`` (``-d``)."""
    # no --quiet: it drops skipped checks from the output, and a skip must be seen to be
    # judged (a bare one stays an open finding, one with a reason is suppressed)
    args = ["checkov", "--skip-download", "-o", "json", "--compact"]
    args += ["--framework", *frameworks]
    if directory is not None:
        args += ["-d", directory]
    for name in files:
        args += ["-f", name]
    return parse((runner or run_tool)(args, cwd, timeout))


def parse(text: str) -> list[CheckovResult]:
    """checkov's JSON (one report or a list, one per framework) as results."""
    if not text.strip():
        return []
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        head = " / ".join(text.strip().splitlines()[:2])
        raise ToolCrashed(f"checkov printed invalid JSON ({exc.msg}): {head}") from None
    reports = payload if isinstance(payload, list) else [payload]
    out: list[CheckovResult] = []
    for report in reports:
        if not isinstance(report, dict) or not isinstance(report.get("results"), dict):
            continue
        check_type = str(report.get("check_type", ""))
        results = report["results"]
        for item in results.get("failed_checks") or []:
            out.append(_result(item, check_type))
        for item in results.get("skipped_checks") or []:
            comment = str((item.get("check_result") or {}).get("suppress_comment") or "")
            reason = None if comment.strip().lower() in _NO_REASON else comment
            out.append(_result(item, check_type, skipped=True, reason=reason))
    return out


def _result(
    item: dict[str, Any], check_type: str, *, skipped: bool = False, reason: str | None = None
) -> CheckovResult:
    check_id = str(item.get("check_id"))
    lines = item.get("file_line_range") or [1, 1]
    return CheckovResult(
        check_id=check_id,
        name=str(item.get("check_name") or check_id),
        check_type=check_type,
        path=str(item.get("file_path", "")).lstrip("/"),
        line=max(1, int(lines[0] or 1)),
        end_line=max(1, int(lines[-1] or 1)),
        resource=str(item.get("resource", "")),
        guideline=item.get("guideline") or None,
        skipped=skipped,
        skip_reason=reason,
    )
