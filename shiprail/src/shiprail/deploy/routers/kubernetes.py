"""The router of an environment on Kubernetes: its Service. The Service always selects the
pods of the revision Helm deployed, so switching to a release means making that release's
revision the deployed one (``helm rollback`` when it is not), and a traffic split is not
something a plain Service does (progressive delivery on a cluster is Flagger's)."""

from __future__ import annotations

from shiprail.deploy.routers.interface import Route, Router, TrafficSplit
from shiprail.deploy.targets.kubernetes import KubernetesTarget
from shiprail.errors import DeployFailed


class ServiceRouter(Router):
    def __init__(self, target: KubernetesTarget) -> None:
        self.target = target

    def switch(self, route: Route) -> None:
        if self.target.serving() == route.release_id:
            return
        if not self.target.resume(route.environment, route.release_id):
            raise DeployFailed(
                f"{route.environment}: no Helm revision of {route.release_id} is left to roll "
                "back to (Helm keeps the last 20)"
            )

    def split(self, split: TrafficSplit) -> None:
        raise DeployFailed(
            "a Kubernetes Service cannot split traffic by weight: use Flagger (gitops/flagger/)"
        )

    def url(self) -> str:
        settings = self.target.settings
        return f"kubernetes://{settings.namespace}/{self.target.release}"
