# hostPath volumes expose the node's filesystem to the pod.
package shiprail.kubernetes.rules.hostpath

import data.lib.shiprail.workload

violation contains {"msg": msg} if {
	obj := input.review.object
	some volume in object.get(workload.pod_spec(obj), "volumes", [])
	volume.hostPath
	msg := sprintf("%s: volume %q mounts the host path %q", [workload.display(obj), volume.name, volume.hostPath.path])
}
