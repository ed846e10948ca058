"""Values per cloud: every cluster renders the chart from helm/values-<env>.yaml with
helm/values-<cloud>-<env>.yaml over it, as the Argo CD ApplicationSet and the cd-*.yml
workflows layer them. An EKS cluster pulls from ECR, an AKS cluster from ACR, prod by digest;
Argo CD Image Updater follows exactly the tags `shiprail publish` pushes."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from shiprail import _subprocess
from shiprail.image.build import service_version
from shiprail.image.publish import release_tags
from shiprail.kubernetes import render
from shiprail.kubernetes.settings import KubernetesConfig

from .conftest import REPO
from conftest import require_tools

#: cloud (the clusters' shiprail.dev/cloud label) -> the registry its images come from
REGISTRIES = {
    "eks": re.compile(r"^[0-9]{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com/workorders[@:]"),
    "aks": re.compile(r"^[a-z0-9]{5,50}\.azurecr\.io/workorders[@:]"),
}
ENVIRONMENTS = ("dev", "stage", "prod")
APPSET = REPO / "gitops" / "argocd" / "applicationset.yaml"
CLOUD_LABEL = '{{ index .metadata.labels "shiprail.dev/cloud" }}'


def _appset() -> dict[str, Any]:
    return yaml.safe_load(APPSET.read_text())


def _value_files(cloud: str, env: str) -> list[str]:
    """The values files Argo CD gives an Application of ``env`` on a ``cloud`` cluster,
    relative to the repository (the ApplicationSet names them relative to helm/chart)."""
    spec = _appset()["spec"]
    files = spec["template"]["spec"]["source"]["helm"]["valueFiles"]
    if env == "prod":  # prod's sources come from the templatePatch (chart + Flagger)
        patch = spec["templatePatch"]
        files = re.findall(r"^\s+- '?(\.\./values-[^'\n]*\.yaml)'?\s*$", patch, re.M)
    resolved = [f.replace(CLOUD_LABEL, cloud).replace("{{ .env }}", env) for f in files]
    return [str(Path("helm/chart", f)).replace("helm/chart/../", "helm/") for f in resolved]


@pytest.fixture(scope="module")
def rendered() -> dict[tuple[str, str], dict[str, dict[str, Any]]]:
    """Every cloud x environment, rendered by the real helm with the ApplicationSet's files."""
    require_tools("helm")
    config = KubernetesConfig()
    out = {}
    for cloud in REGISTRIES:
        for env in ENVIRONMENTS:
            first, *layers = _value_files(cloud, env)
            args = render.helm_arguments(config, config.environment(env), REPO)
            assert args[:2] == ["-f", str(REPO / first)]
            for layer in layers:
                args += ["-f", str(REPO / layer)]
            chart = str(REPO / config.chart)
            result = _subprocess.run(
                ["helm", "template", config.release, chart, "-n", config.release_namespace, *args],
                cwd=REPO,
                timeout=render.HELM_TIMEOUT_SECONDS,
            )
            manifests = render.parse_rendered(result.stdout, env, config.chart)
            out[cloud, env] = {f"{m.kind}/{m.name}": m.obj for m in manifests}
    return out


def test_each_cluster_layers_its_clouds_file_over_the_environments() -> None:
    for cloud in REGISTRIES:
        for env in ENVIRONMENTS:
            files = _value_files(cloud, env)
            assert files == [f"helm/values-{env}.yaml", f"helm/values-{cloud}-{env}.yaml"]
            assert all((REPO / f).is_file() for f in files)


def _image(objects: dict[str, dict[str, Any]]) -> str:
    pod = objects["Deployment/workorders"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    return str(container["image"])


def test_the_image_comes_from_the_clouds_registry(rendered: dict) -> None:
    for (cloud, env), objects in rendered.items():
        image = _image(objects)
        assert REGISTRIES[cloud].match(image), f"{cloud} {env}: {image}"
        other = next(c for c in REGISTRIES if c != cloud)
        assert not REGISTRIES[other].match(image)


def test_stage_and_prod_pin_a_digest_and_dev_a_tag_we_push(rendered: dict) -> None:
    for cloud in REGISTRIES:
        for env in ("stage", "prod"):
            assert re.search(r"@sha256:[0-9a-f]{64}$", _image(rendered[cloud, env])), (cloud, env)
        dev = _image(rendered[cloud, "dev"])
        assert "@" not in dev and _allow_tags().match(dev.rsplit(":", 1)[1]), dev


def test_the_environment_shape_is_the_same_on_both_clouds(rendered: dict) -> None:
    for env in ENVIRONMENTS:
        eks, aks = rendered["eks", env], rendered["aks", env]
        assert sorted(eks) == sorted(aks)
        for objects in (eks, aks):
            spec = objects["Deployment/workorders"]["spec"]["template"]["spec"]
            env_vars = {e["name"]: e.get("value") for e in spec["containers"][0]["env"]}
            assert env_vars["WORKORDERS_ENV"] == env


# -- Argo CD Image Updater (dev) -------------------------------------------------------------


def _dev_annotations(cloud: str) -> dict[str, str]:
    """The Image Updater annotations of a dev Application on a ``cloud`` cluster, with the
    patch's one condition on the cloud label resolved."""
    patch = _appset()["spec"]["templatePatch"]
    dev = patch.split('{{- if eq .env "dev" }}', 1)[1].split("\n{{- end }}\n", 1)[0]
    aks, rest = dev.split('{{- if eq (index .metadata.labels "shiprail.dev/cloud") "aks" }}', 1)
    when_aks, rest = rest.split("{{- else }}", 1)
    otherwise, rest = rest.split("{{- end }}", 1)
    text = aks + (when_aks if cloud == "aks" else otherwise) + rest
    text = text.replace(CLOUD_LABEL, cloud)
    return yaml.safe_load(text)["metadata"]["annotations"]


def _allow_tags(cloud: str = "eks") -> re.Pattern[str]:
    value = _dev_annotations(cloud)["argocd-image-updater.argoproj.io/workorders.allow-tags"]
    assert value.startswith("regexp:")
    return re.compile(value.removeprefix("regexp:"))


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture
def tagged_commit(tmp_path: Path) -> tuple[Path, str]:
    """A repository whose commit carries a release tag, as `shiprail publish` sees one."""
    git(tmp_path, "init", "-q")
    git(tmp_path, "config", "user.email", "t@example.org")
    git(tmp_path, "config", "user.name", "t")
    (tmp_path / "f").write_text("x")
    git(tmp_path, "add", "f")
    git(tmp_path, "commit", "-q", "-m", "one")
    git(tmp_path, "tag", "v1.0.0")
    return tmp_path, git(tmp_path, "rev-parse", "HEAD")


def test_image_updater_follows_exactly_the_tags_shiprail_publishes(tagged_commit) -> None:
    repo, commit = tagged_commit
    version = service_version(REPO / "app")
    published = release_tags(repo, version, commit)
    assert len(published) == 3  # the commit, <version>-<sha12>, v1.0.0
    published += release_tags(repo, "1.1.0rc1", commit)[1:2]  # a pre-release version
    dirty = release_tags(repo, version, commit, dirty=True)
    for cloud in REGISTRIES:
        allow = _allow_tags(cloud)
        assert all(allow.match(tag) for tag in published), published
        refused = ("latest", "main", *dirty, commit[:12], f"{version}-{commit[:7]}", "v1.0")
        assert not any(allow.match(tag) for tag in refused), [t for t in refused if allow.match(t)]


def test_image_updater_watches_and_writes_back_the_clouds_own_files() -> None:
    for cloud in REGISTRIES:
        annotations = _dev_annotations(cloud)
        alias, image = annotations["argocd-image-updater.argoproj.io/image-list"].split("=", 1)
        assert alias == "workorders"
        values_file = f"helm/values-{cloud}-dev.yaml"
        values = yaml.safe_load((REPO / values_file).read_text())
        assert image == values["image"]["repository"]
        assert REGISTRIES[cloud].match(image + ":tag")
        target = annotations["argocd-image-updater.argoproj.io/write-back-target"]
        assert target == f"helmvalues:../values-{cloud}-dev.yaml"
        assert annotations["argocd-image-updater.argoproj.io/workorders.helm.image-tag"] == (
            "image.tag"
        )
