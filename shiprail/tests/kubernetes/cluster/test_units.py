"""The cluster's pieces without starting it: configuration, certificates, the pause image, and
the errors a user sees (no root, components not built). These run anywhere, as any user."""

from __future__ import annotations

import io
import json
import tarfile
import tomllib
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from typer.testing import CliRunner

from shiprail.cli import app
from shiprail.errors import ConfigError, ToolMissing
from shiprail.kubernetes.cluster import configs, images, layout, pki

runner = CliRunner()


def test_containerd_clamps_oom_scores_and_uses_cgroupfs_and_the_local_pause_image(
    tmp_path: Path,
) -> None:
    """restrict_oom_score_adj is what lets pod sandboxes start where root lacks
    CAP_SYS_RESOURCE (configs.py): without it runc fails with "can't get final child's PID"."""
    config = tomllib.loads(configs.containerd_config(layout.Layout(tmp_path)))
    cri = config["plugins"]["io.containerd.grpc.v1.cri"]
    assert cri["restrict_oom_score_adj"] is True
    assert cri["sandbox_image"] == layout.PAUSE_IMAGE
    assert cri["containerd"]["runtimes"]["runc"]["options"]["SystemdCgroup"] is False
    assert config["grpc"]["address"] == str(tmp_path / "containerd" / "containerd.sock")
    assert config["root"].startswith(str(tmp_path)) and config["state"].startswith(str(tmp_path))


def test_kubelet_and_kube_proxy_never_lower_their_oom_score(tmp_path: Path) -> None:
    keys = pki.Pki(tmp_path / "pki", tmp_path / "ca")
    kubelet = configs.kubelet_config(layout.Layout(tmp_path), keys, "192.0.2.10")
    assert (kubelet["cgroupDriver"], kubelet["failSwapOn"], kubelet["oomScoreAdj"]) == (
        "cgroupfs", False, 0)  # fmt: skip
    assert kubelet["authentication"]["anonymous"] == {"enabled": False}  # type: ignore[index]
    proxy = configs.kube_proxy_config(layout.Layout(tmp_path), "node")
    assert proxy["mode"] == "iptables" and proxy["oomScoreAdj"] == 0


def test_certificates_carry_the_identities_rbac_expects_and_are_reused(tmp_path: Path) -> None:
    specs = pki.cluster_specs("node-a", "192.0.2.10", layout.KUBERNETES_SERVICE_IP)
    issued = pki.ensure_pki(tmp_path / "pki", tmp_path / "ca", specs)
    admin = x509.load_pem_x509_certificate(issued.cert("admin").read_bytes())
    assert admin.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == (
        "system:masters"
    )
    usages = admin.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usages) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    kubelet = x509.load_pem_x509_certificate(issued.cert("kubelet-client").read_bytes())
    assert kubelet.subject.rfc4514_string() == "CN=system:node:node-a,O=system:nodes"
    server = x509.load_pem_x509_certificate(issued.cert("kube-apiserver").read_bytes())
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "kubernetes.default.svc" in names.get_values_for_type(x509.DNSName)
    assert (issued.key("admin").stat().st_mode & 0o777) == 0o600
    before = issued.cert("admin").read_bytes()
    pki.ensure_pki(tmp_path / "pki", tmp_path / "ca", specs)
    assert issued.cert("admin").read_bytes() == before


def test_the_pause_image_is_one_non_root_layer_holding_the_binary(tmp_path: Path) -> None:
    binary = tmp_path / "pause"
    binary.write_bytes(b"\x7fELF fake")
    with tarfile.open(fileobj=io.BytesIO(images.pause_archive(binary))) as archive:
        _check_pause_archive(archive)
    assert images.pause_archive(binary) == images.pause_archive(binary)  # reproducible


def _check_pause_archive(archive: tarfile.TarFile) -> None:
    manifest = json.load(archive.extractfile("manifest.json"))  # type: ignore[arg-type]
    assert manifest[0]["RepoTags"] == [layout.PAUSE_IMAGE]
    config = json.load(archive.extractfile(manifest[0]["Config"]))  # type: ignore[arg-type]
    assert config["config"]["User"] == images.PAUSE_USER and config["config"]["Entrypoint"]
    with tarfile.open(fileobj=archive.extractfile(manifest[0]["Layers"][0])) as layer:
        member = layer.getmember("pause")
        content = layer.extractfile(member)
        assert member.mode == 0o755 and content is not None and content.read() == b"\x7fELF fake"


def test_the_version_comes_from_tools_lock(tmp_path: Path) -> None:
    assert layout.kubernetes_version().startswith("v1.")
    lock = tmp_path / "tools.lock"
    lock.write_text("helm go v3 helm.sh/helm helm required\n")
    with pytest.raises(ConfigError, match="pins no Kubernetes version"):
        layout.kubernetes_version(lock)


def test_missing_components_name_the_install_command(tmp_path: Path) -> None:
    with pytest.raises(ToolMissing) as caught:
        layout.require_binaries(tmp_path)
    assert "scripts/install-tools.sh kubernetes" in str(caught.value)


@pytest.mark.parametrize("command", ["up", "down"])
def test_not_root_is_a_usage_error_with_a_hint_not_a_traceback(
    command: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    monkeypatch.setenv("SHIPRAIL_STATE_DIR", str(tmp_path))
    result = runner.invoke(app, ["k8s", "cluster", command])
    assert result.exit_code == 2, result.output
    assert "only root can" in result.stderr and f"sudo shiprail k8s cluster {command}" in (
        result.stderr
    )
    assert "Traceback" not in result.output


def test_importing_into_a_stopped_cluster_says_to_start_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr("os.geteuid", lambda: 0)
    monkeypatch.setenv("SHIPRAIL_STATE_DIR", str(tmp_path))
    result = runner.invoke(app, ["k8s", "cluster", "import", "workorders:1.0.0"])
    assert result.exit_code == 2 and "shiprail k8s cluster up" in result.stderr, result.output


def test_status_of_a_cluster_never_started_says_not_ready(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SHIPRAIL_STATE_DIR", str(tmp_path))
    result = runner.invoke(app, ["k8s", "cluster", "status", "--json"])
    assert result.exit_code == 1, result.output
    status = json.loads(result.stdout)
    assert status["up"] is False and status["node_ready"] is False
    assert all(c["pid"] is None for c in status["components"])
