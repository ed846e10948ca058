# Images come only from the registries the platform trusts (ECR/ACR patterns from
# shiprail.yaml, passed as the constraint's "registries" parameter: anchored regular
# expressions matched against the whole image reference).
package shiprail.kubernetes.rules.allowedregistries

import data.lib.shiprail.workload

violation contains {"msg": msg} if {
	obj := input.review.object
	some entry in workload.containers(obj)
	image := entry.container.image
	not allowed(image)
	msg := sprintf("%s: %s %q uses %q, which is outside the allowed registries %v", [workload.display(obj), entry.type, entry.container.name, image, registries])
}

registries := object.get(object.get(input, "parameters", {}), "registries", [])

allowed(image) if {
	some pattern in registries
	regex.match(pattern, image)
}
