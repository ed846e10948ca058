# A privileged container is root on the node.
package shiprail.kubernetes.rules.privileged

import data.lib.shiprail.workload

violation contains {"msg": msg} if {
	obj := input.review.object
	some entry in workload.containers(obj)
	workload.container_security_context(entry.container).privileged == true
	msg := sprintf("%s: %s %q is privileged", [workload.display(obj), entry.type, entry.container.name])
}
