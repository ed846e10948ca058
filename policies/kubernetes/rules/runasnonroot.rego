# Containers run as a non-root user: runAsNonRoot true (container or pod level) and never
# runAsUser 0.
package shiprail.kubernetes.rules.runasnonroot

import data.lib.shiprail.workload

violation contains {"msg": msg} if {
	obj := input.review.object
	some entry in workload.containers(obj)
	not non_root(obj, entry.container)
	msg := sprintf("%s: %s %q may run as root (set runAsNonRoot: true)", [workload.display(obj), entry.type, entry.container.name])
}

violation contains {"msg": msg} if {
	obj := input.review.object
	some entry in workload.containers(obj)
	workload.effective(obj, entry.container, "runAsUser") == 0
	msg := sprintf("%s: %s %q runs as root (runAsUser: 0)", [workload.display(obj), entry.type, entry.container.name])
}

non_root(obj, container) if workload.effective(obj, container, "runAsNonRoot") == true
