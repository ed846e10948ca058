# Images are immutable references: a digest, or a tag other than "latest". An untagged image
# means "latest", which changes under a running Deployment.
package shiprail.kubernetes.rules.disallowlatest

import data.lib.shiprail.workload

violation contains {"msg": msg} if {
	obj := input.review.object
	some entry in workload.containers(obj)
	image := entry.container.image
	not workload.image_digest(image)
	not workload.image_tag(image)
	msg := sprintf("%s: %s %q uses the untagged image %q (pin a tag or a digest)", [workload.display(obj), entry.type, entry.container.name, image])
}

violation contains {"msg": msg} if {
	obj := input.review.object
	some entry in workload.containers(obj)
	image := entry.container.image
	not workload.image_digest(image)
	workload.image_tag(image) == "latest"
	msg := sprintf("%s: %s %q uses the mutable tag \"latest\" in %q", [workload.display(obj), entry.type, entry.container.name, image])
}
