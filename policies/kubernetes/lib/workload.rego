# Helpers shared by every rule: find the pod template of any workload kind and its
# containers. Gatekeeper loads this as a template library (packages must start with "lib.").
package lib.shiprail.workload

# Kinds whose pod template lives at spec.template.spec.
template_kinds := {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job"}

pod_spec(obj) := obj.spec if obj.kind == "Pod"

pod_spec(obj) := obj.spec.template.spec if obj.kind in template_kinds

pod_spec(obj) := obj.spec.jobTemplate.spec.template.spec if obj.kind == "CronJob"

# Every container with its type ("container", "initContainer", "ephemeralContainer").
containers(obj) := [{"type": type, "container": c} |
	spec := pod_spec(obj)
	some field, type in {"containers": "container", "initContainers": "initContainer", "ephemeralContainers": "ephemeralContainer"}
	some c in object.get(spec, field, [])
]

# Only regular containers take probes and serve traffic.
app_containers(obj) := [c |
	some entry in containers(obj)
	entry.type == "container"
	c := entry.container
]

# The pod-level security context ({} when absent).
pod_security_context(obj) := object.get(pod_spec(obj), "securityContext", {})

# A container's security context ({} when absent).
container_security_context(c) := object.get(c, "securityContext", {})

# The value of a security setting for a container: the container's wins over the pod's.
effective(_, c, key) := container_security_context(c)[key]

effective(obj, c, key) := pod_security_context(obj)[key] if not has_key(container_security_context(c), key)

has_key(o, key) if _ = o[key]

# "Deployment/api" for messages.
display(obj) := sprintf("%s/%s", [obj.kind, object.get(object.get(obj, "metadata", {}), "name", "<unnamed>")])

# Split an image reference into registry-qualified repository, tag and digest.
image_digest(image) := split(image, "@")[1] if contains(image, "@")

image_without_digest(image) := split(image, "@")[0]

# The tag is after the last ":" that follows the last "/" (a registry port is not a tag).
image_tag(image) := tag if {
	name := image_without_digest(image)
	parts := split(name, "/")
	last := parts[count(parts) - 1]
	contains(last, ":")
	segments := split(last, ":")
	tag := segments[count(segments) - 1]
}
