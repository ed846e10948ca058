# imagePullPolicy is set explicitly: its default depends on the tag, which hides mistakes.
package shiprail.kubernetes.rules.imagepullpolicy

import data.lib.shiprail.workload

violation contains {"msg": msg} if {
	obj := input.review.object
	some entry in workload.containers(obj)
	not entry.container.imagePullPolicy
	msg := sprintf("%s: %s %q does not set imagePullPolicy", [workload.display(obj), entry.type, entry.container.name])
}
