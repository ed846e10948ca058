# The root filesystem is read-only; writable scratch space is an emptyDir.
package shiprail.kubernetes.rules.readonlyrootfs

import data.lib.shiprail.workload

violation contains {"msg": msg} if {
	obj := input.review.object
	some entry in workload.containers(obj)
	entry.type != "ephemeralContainer"
	not workload.container_security_context(entry.container).readOnlyRootFilesystem == true
	msg := sprintf("%s: %s %q has a writable root filesystem (set readOnlyRootFilesystem: true)", [workload.display(obj), entry.type, entry.container.name])
}
