"""checkov: IaC and configuration - Terraform, Kubernetes manifests, Dockerfiles and GitHub
Actions workflows (compose files are covered by our Semgrep rules: checkov has no compose
framework).

Run with ``--skip-download`` (no platform calls). Offline checkov reports no severity, so
results take ours from ``SEVERITIES`` below (anything not listed: medium). A
``#checkov:skip=ID:reason`` comment counts only with a reason; a bare skip is reported as
an open finding.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from shiprail import _subprocess
from shiprail.findings import Category, Finding, Rule, Severity
from shiprail.scan.scanners._util import load_json, rel
from shiprail.scan.scanners.interface import Scanner

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

_CATEGORY = {
    "dockerfile": Category.container,
    "github_actions": Category.workflow,
}
_K8S = re.compile(r"^apiVersion:\s*\S+", re.MULTILINE)
_KIND = re.compile(r"^kind:\s*\S+", re.MULTILINE)
_NO_REASON = {"", "no comment provided"}


def severity_of(check_id: str) -> Severity:
    return SEVERITIES.get(check_id, Severity.medium)


class CheckovScanner(Scanner):
    name = "checkov"
    category = Category.iac
    binary = "checkov"
    min_version = "3.0"
    patterns = (
        "*.tf",
        "*.tf.json",
        "Dockerfile",
        "Dockerfile.*",
        "*.Dockerfile",
        ".github/workflows/*.yml",
        ".github/workflows/*.yaml",
    )
    frameworks = ("terraform", "kubernetes", "dockerfile", "github_actions")
    severity_doc = "our table (checkov.SEVERITIES) by check id; unlisted checks medium"

    def applies_to(self, root: Path, files: list[Path]) -> list[Path]:
        out = super().applies_to(root, files)
        for f in files:
            if f.suffix in {".yml", ".yaml"} and f not in out and self._is_manifest(root / f):
                out.append(f)
        return sorted(out)

    @staticmethod
    def _is_manifest(path: Path) -> bool:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")[:20000]
        except OSError:
            return False
        # Helm templates are rendered by the kubernetes scanner, not parsed raw here
        return bool(_K8S.search(text) and _KIND.search(text)) and "{{" not in text

    def cache_key_extra(self) -> dict[str, Any]:
        return {"severities": {k: v.value for k, v in SEVERITIES.items()}}

    def scan(self, root: Path, files: list[Path]) -> list[Finding]:
        args = ["checkov", "--skip-download", "-o", "json", "--quiet", "--compact"]
        args += ["--framework", *self.frameworks]
        for f in files:
            args += ["-f", f.as_posix()]
        result = _subprocess.run(
            args,
            cwd=root,
            timeout=self.timeout,
            env={"BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"},
            ok_codes=(0, 1),
        )
        text = result.stdout.strip()
        if not text:
            return []
        data = load_json("checkov", text)
        reports = data if isinstance(data, list) else [data]
        findings: list[Finding] = []
        for report in reports:
            if not isinstance(report, dict) or "results" not in report:
                continue
            category = _CATEGORY.get(str(report.get("check_type")), Category.iac)
            results = report["results"]
            for item in results.get("failed_checks", []):
                findings.append(self._finding(root, item, category, None))
            for item in results.get("skipped_checks", []):
                comment = str((item.get("check_result") or {}).get("suppress_comment") or "")
                if comment.strip().lower() in _NO_REASON:
                    findings.append(self._finding(root, item, category, None, bare_skip=True))
                else:
                    findings.append(self._finding(root, item, category, comment))
        return findings

    def _finding(
        self,
        root: Path,
        item: dict[str, Any],
        category: Category,
        suppressed: str | None,
        bare_skip: bool = False,
    ) -> Finding:
        check_id = str(item["check_id"])
        lines = item.get("file_line_range") or [1, 1]
        rule = Rule(
            id=check_id,
            name=check_id,
            description=str(item.get("check_name") or check_id),
            help_uri=item.get("guideline") or None,
            help_text=f"checkov {check_id}: {item.get('check_name', '')}",
        )
        props = {"resource": str(item.get("resource", ""))}
        if suppressed:
            props["suppression"] = f"checkov:skip - {suppressed}"
        message = str(item.get("check_name") or check_id)
        if bare_skip:
            message += " (a checkov:skip without a reason does not count)"
        return Finding(
            tool=self.name,
            rule=rule,
            severity=severity_of(check_id),
            message=f"{message} [{item.get('resource', '')}]",
            path=rel(root, str(item.get("file_path", "")).lstrip("/")),
            start_line=max(1, int(lines[0] or 1)),
            end_line=max(1, int(lines[-1] or 1)),
            properties=props,
            category=category,
        )
