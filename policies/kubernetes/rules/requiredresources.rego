# Every container declares CPU and memory requests and limits, so the scheduler can place it
# and one noisy pod cannot starve its neighbours.
package shiprail.kubernetes.rules.requiredresources

import data.lib.shiprail.workload

violation contains {"msg": msg} if {
	obj := input.review.object
	some entry in workload.containers(obj)
	c := entry.container
	some section in ["requests", "limits"]
	some resource in ["cpu", "memory"]
	not c.resources[section][resource]
	msg := sprintf("%s: %s %q has no %s %s", [workload.display(obj), entry.type, c.name, resource, trim_suffix(section, "s")])
}
