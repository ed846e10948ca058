# A Deployment that every rule allows; each test breaks one thing in it.
package test.shiprail.kubernetes.fixtures

registries := ["^[0-9]{12}\\.dkr\\.ecr\\.[a-z0-9-]+\\.amazonaws\\.com/", "^[a-z0-9]+\\.azurecr\\.io/"]

deployment := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "workorders", "namespace": "workorders-dev"},
	"spec": {"template": {"spec": {
		"securityContext": {"runAsNonRoot": true, "runAsUser": 10001, "seccompProfile": {"type": "RuntimeDefault"}},
		"volumes": [{"name": "tmp", "emptyDir": {}}],
		"containers": [{
			"name": "workorders",
			"image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/workorders:1.4.2",
			"imagePullPolicy": "Always",
			"securityContext": {
				"allowPrivilegeEscalation": false,
				"privileged": false,
				"readOnlyRootFilesystem": true,
				"capabilities": {"drop": ["ALL"]},
			},
			"resources": {
				"requests": {"cpu": "100m", "memory": "128Mi"},
				"limits": {"cpu": "500m", "memory": "256Mi"},
			},
			"livenessProbe": {"httpGet": {"path": "/health", "port": 8000}},
			"readinessProbe": {"httpGet": {"path": "/ready", "port": 8000}},
		}],
	}}},
}

# The same pod spec as a bare Pod and a CronJob, to show the rules read every workload kind.
pod := {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "one-off"}, "spec": deployment.spec.template.spec}

cronjob := {
	"apiVersion": "batch/v1",
	"kind": "CronJob",
	"metadata": {"name": "nightly"},
	"spec": {"jobTemplate": {"spec": {"template": {"spec": deployment.spec.template.spec}}}},
}

# Gatekeeper's input shape for one object.
review(obj) := {"review": {"object": obj}, "parameters": {"registries": registries}}

# The deployment with one JSON patch applied to its first container or pod spec.
patched(ops) := json.patch(deployment, ops)

container_path := "/spec/template/spec/containers/0"

pod_spec_path := "/spec/template/spec"
