# Sharing the node's network, process or IPC namespace breaks pod isolation.
package shiprail.kubernetes.rules.hostnamespaces

import data.lib.shiprail.workload

violation contains {"msg": msg} if {
	obj := input.review.object
	spec := workload.pod_spec(obj)
	some field in ["hostNetwork", "hostPID", "hostIPC"]
	spec[field] == true
	msg := sprintf("%s: uses the host's namespace (%s: true)", [workload.display(obj), field])
}
