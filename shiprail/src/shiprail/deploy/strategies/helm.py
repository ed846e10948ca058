"""Blue/green's steps on a Kubernetes target, in the order a cluster allows.

Helm rolls the pods over and the Service follows them as they turn Ready, so the new release
takes traffic before shiprail proves it: start (``helm upgrade --atomic --wait``, which
already waited for readiness), health, smoke through the API server's pod proxy, the watch,
and on any failure the previous revision is rolled back to. With no previous release a failed
first release stays installed (uninstalling would delete the namespace and the secrets made
for it) and the ledger records it as failed.
"""

from __future__ import annotations

from dataclasses import dataclass

from shiprail.deploy.checkpoints import Step, checkpoint
from shiprail.deploy.progress import Phase, reason_of
from shiprail.deploy.strategies.blue_green import Rollout


@dataclass(kw_only=True)
class HelmRollout(Rollout):
    """A rollout whose switch is Kubernetes' own rolling update."""

    def _run(self) -> None:
        self.start_and_prove()
        self.switched = True
        self.tracker.stage("switch", "the Service selects the new pods (rolling update)")
        self.on_switch(self.new)
        checkpoint(Step.EDGE_SWITCHED, self.environment)
        t = self.clock()
        self.watch()
        self._step("watch", t)
        checkpoint(Step.OLD_DRAINED, self.environment)
        self.tracker.finish(Phase.promoted, f"{self.spec.release_id} serves all traffic")

    def starting(self) -> str:
        return "the pods (helm upgrade --install --atomic; the values files size it)"

    def abort(self, exc: BaseException | None = None) -> None:
        """Roll back to the previous release's revision when the new one got deployed."""
        self.tracker.finish(Phase.failed, reason_of(exc))
        if self.previous:
            self.back_to_previous()
