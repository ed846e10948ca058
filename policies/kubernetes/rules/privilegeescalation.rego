# allowPrivilegeEscalation defaults to true; the restricted profile requires an explicit false.
package shiprail.kubernetes.rules.privilegeescalation

import data.lib.shiprail.workload

violation contains {"msg": msg} if {
	obj := input.review.object
	some entry in workload.containers(obj)
	not workload.container_security_context(entry.container).allowPrivilegeEscalation == false
	msg := sprintf("%s: %s %q does not set securityContext.allowPrivilegeEscalation: false", [workload.display(obj), entry.type, entry.container.name])
}
