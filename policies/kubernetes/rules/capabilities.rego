# No Linux capabilities are added beyond the constraint's "allowed" list (empty by default).
package shiprail.kubernetes.rules.capabilities

import data.lib.shiprail.workload

violation contains {"msg": msg} if {
	obj := input.review.object
	some entry in workload.containers(obj)
	some capability in object.get(object.get(workload.container_security_context(entry.container), "capabilities", {}), "add", [])
	not capability in allowed
	msg := sprintf("%s: %s %q adds the capability %s", [workload.display(obj), entry.type, entry.container.name, capability])
}

allowed := {c | some c in object.get(object.get(input, "parameters", {}), "allowed", [])}
