# Serving containers declare liveness and readiness probes, so Kubernetes restarts a hung
# process and sends traffic only to ready pods.
package shiprail.kubernetes.rules.probes

import data.lib.shiprail.workload

violation contains {"msg": msg} if {
	obj := input.review.object
	some c in workload.app_containers(obj)
	some probe in ["livenessProbe", "readinessProbe"]
	not c[probe]
	msg := sprintf("%s: container %q has no %s", [workload.display(obj), c.name, probe])
}
