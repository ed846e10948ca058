"""How the Kubernetes target reads Helm: which shiprail release each revision serves (through
rollbacks), what ``stop`` rolls back to, the image values, and the configuration rules. Helm
is replaced by a recorded history here; the cluster tests run the real one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from shiprail.deploy.routers.interface import Route, TrafficSplit
from shiprail.deploy.routers.kubernetes import ServiceRouter
from shiprail.deploy.settings import EnvironmentConfig, KubernetesTarget
from shiprail.deploy.targets.interface import Instance
from shiprail.deploy.targets.kubernetes import KubernetesTarget as HelmTarget
from shiprail.deploy.targets.kubernetes import image_values
from shiprail.errors import DeployFailed, UsageError

SETTINGS = KubernetesTarget(namespace="workorders-dev", values=["helm/values-dev.yaml"])


class RecordedHelm(HelmTarget):
    """The target with Helm answered from a list of revisions; rollbacks append one."""

    def __init__(self, history: list[dict[str, Any]]) -> None:
        super().__init__(
            SETTINGS, kubeconfig=None, root=Path("."), state=Path("."), release="wo-dev",
            timeout_seconds=30,
        )  # fmt: skip
        self.history = history
        self.calls: list[tuple[str, ...]] = []

    def helm(self, *args: str, timeout: float = 120.0) -> str:
        self.calls.append(args)
        if args[0] == "history":
            return json.dumps(self.history)
        if args[0] == "rollback":
            for entry in self.history:
                entry["status"] = "superseded"
            revision = len(self.history) + 1
            self.history.append(
                {
                    "revision": revision,
                    "status": "deployed",
                    "description": f"Rollback to {args[2]}",
                }
            )
            return ""
        raise AssertionError(f"unexpected helm {args}")

    def instances(self, environment: str, release_id: str | None = None) -> list[Instance]:
        return [Instance("pod", environment, release_id or "", "", "10.0.0.1:8000", "http://x")]


def _history(*descriptions: str) -> list[dict[str, Any]]:
    last = len(descriptions)
    return [
        {"revision": n, "status": "deployed" if n == last else "superseded", "description": d}
        for n, d in enumerate(descriptions, start=1)
    ]


def test_revisions_follow_rollbacks_to_the_release_they_serve() -> None:
    helm = RecordedHelm(
        _history("shiprail release r1", "shiprail release r2", "Rollback to 1", "Install complete")
    )
    assert [(r.number, r.release_id) for r in helm.revisions()] == [
        (1, "r1"), (2, "r2"), (3, "r1"), (4, None),
    ]  # fmt: skip


def test_resume_rolls_back_to_the_latest_revision_of_that_release() -> None:
    helm = RecordedHelm(_history("shiprail release r1", "shiprail release r2", "Rollback to 1"))
    helm.history[-1]["status"] = "superseded"
    helm.history.append({"revision": 4, "status": "deployed", "description": "shiprail release r3"})
    helm.resume("dev", "r1")
    assert helm.calls[-1][:3] == ("rollback", "wo-dev", "3")
    assert helm.serving() == "r1"
    assert helm.resume("dev", "r9") == []  # no revision of it: the engine starts it again


def test_stop_of_the_served_release_rolls_back_to_the_one_it_replaced() -> None:
    helm = RecordedHelm(_history("shiprail release r1", "shiprail release r2"))
    replaced = [Instance("pod", "dev", "r1", "", "", "")]
    helm.stop(replaced)  # r1 no longer serves: nothing to do
    assert [c[0] for c in helm.calls] == ["history"]
    helm.stop([Instance("pod", "dev", "r2", "", "", "")])
    assert helm.calls[-1][:3] == ("rollback", "wo-dev", "1")
    assert helm.serving() == "r1"


def test_service_router_switches_by_rollback_and_refuses_splits() -> None:
    helm = RecordedHelm(_history("shiprail release r1", "shiprail release r2"))
    router = ServiceRouter(helm)
    route = Route("dev", "", "r2", "green", ("10.0.0.1:8000",))
    router.switch(route)
    assert not [c for c in helm.calls if c[0] == "rollback"]
    router.switch(Route("dev", "", "r1", "blue", ("10.0.0.2:8000",)))
    assert helm.serving() == "r1"
    with pytest.raises(DeployFailed, match="no Helm revision of r7"):
        router.switch(Route("dev", "", "r7", "blue", ("10.0.0.2:8000",)))
    with pytest.raises(DeployFailed, match="Flagger"):
        router.split(TrafficSplit(route, route, 10))


def test_image_values_by_digest_or_tag() -> None:
    digest = "sha256:" + "a" * 64
    assert image_values(f"127.0.0.1:5000/workorders@{digest}") == {
        "repository": "127.0.0.1:5000/workorders", "digest": digest, "tag": "",
    }  # fmt: skip
    assert image_values("127.0.0.1:5000/workorders:1.2.0")["tag"] == "1.2.0"
    for unpullable in (digest, "workorders"):
        with pytest.raises(UsageError, match="neither a digest nor a tag"):
            image_values(unpullable)


def test_kubernetes_environments_have_no_canary_of_their_own() -> None:
    with pytest.raises(ValidationError, match="Flagger"):
        EnvironmentConfig(kubernetes=SETTINGS, strategy="canary")
    with pytest.raises(ValidationError, match="values"):
        KubernetesTarget.model_validate({"namespace": "x", "values": []})
    assert KubernetesTarget.model_validate(
        {"namespace": "wo", "values": ["v.yaml"], "kubeconfig": "local"}
    ).local
