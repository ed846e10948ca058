# An allowed and a denied case for every rule (opa test policies/kubernetes).
package test.shiprail.kubernetes.rules

import data.shiprail.kubernetes.rules
import data.test.shiprail.kubernetes.fixtures as f

allows(rule, obj) if count(rules[rule].violation) == 0 with input as f.review(obj)

denies(rule, obj, fragment) if {
	some v in rules[rule].violation with input as f.review(obj)
	contains(v.msg, fragment)
}

# --- requiredresources
test_requiredresources_allows if allows("requiredresources", f.deployment)

test_requiredresources_denies_missing_limits if {
	obj := f.patched([{"op": "remove", "path": concat("", [f.container_path, "/resources/limits"])}])
	denies("requiredresources", obj, "has no memory limit")
	denies("requiredresources", obj, "has no cpu limit")
}

test_requiredresources_denies_missing_requests if {
	obj := f.patched([{"op": "remove", "path": concat("", [f.container_path, "/resources/requests/cpu"])}])
	denies("requiredresources", obj, "has no cpu request")
}

# --- disallowlatest
test_disallowlatest_allows_tag if allows("disallowlatest", f.deployment)

test_disallowlatest_allows_digest if {
	image := "123456789012.dkr.ecr.eu-west-1.amazonaws.com/workorders@sha256:4b2f1ae1f0b43b1f4b9d3fae33f1c5d1e7c39e0b5a4c2e8d9f6a7b8c9d0e1f2a"
	allows("disallowlatest", f.patched([{"op": "replace", "path": concat("", [f.container_path, "/image"]), "value": image}]))
}

test_disallowlatest_allows_registry_port_with_tag if {
	obj := f.patched([{"op": "replace", "path": concat("", [f.container_path, "/image"]), "value": "registry.local:5000/workorders:1.0"}])
	allows("disallowlatest", obj)
}

test_disallowlatest_denies_latest if {
	obj := f.patched([{"op": "replace", "path": concat("", [f.container_path, "/image"]), "value": "myacr.azurecr.io/workorders:latest"}])
	denies("disallowlatest", obj, "mutable tag \"latest\"")
}

test_disallowlatest_denies_untagged if {
	obj := f.patched([{"op": "replace", "path": concat("", [f.container_path, "/image"]), "value": "registry.local:5000/workorders"}])
	denies("disallowlatest", obj, "untagged image")
}

# --- allowedregistries
test_allowedregistries_allows_ecr if allows("allowedregistries", f.deployment)

test_allowedregistries_allows_acr if {
	obj := f.patched([{"op": "replace", "path": concat("", [f.container_path, "/image"]), "value": "shiprail.azurecr.io/workorders:1.4.2"}])
	allows("allowedregistries", obj)
}

test_allowedregistries_denies_docker_hub if {
	obj := f.patched([{"op": "replace", "path": concat("", [f.container_path, "/image"]), "value": "docker.io/library/python:3.11"}])
	denies("allowedregistries", obj, "outside the allowed registries")
}

test_allowedregistries_denies_lookalike_host if {
	obj := f.patched([{"op": "replace", "path": concat("", [f.container_path, "/image"]), "value": "evil.example.com/shiprail.azurecr.io/workorders:1"}])
	denies("allowedregistries", obj, "outside the allowed registries")
}

# --- privileged
test_privileged_allows if allows("privileged", f.deployment)

test_privileged_denies if {
	obj := f.patched([{"op": "replace", "path": concat("", [f.container_path, "/securityContext/privileged"]), "value": true}])
	denies("privileged", obj, "is privileged")
}

# --- privilegeescalation
test_privilegeescalation_allows if allows("privilegeescalation", f.deployment)

test_privilegeescalation_denies_true if {
	obj := f.patched([{"op": "replace", "path": concat("", [f.container_path, "/securityContext/allowPrivilegeEscalation"]), "value": true}])
	denies("privilegeescalation", obj, "allowPrivilegeEscalation: false")
}

test_privilegeescalation_denies_unset if {
	obj := f.patched([{"op": "remove", "path": concat("", [f.container_path, "/securityContext/allowPrivilegeEscalation"])}])
	denies("privilegeescalation", obj, "allowPrivilegeEscalation: false")
}

# --- runasnonroot
test_runasnonroot_allows_pod_level if allows("runasnonroot", f.deployment)

test_runasnonroot_allows_container_level if {
	obj := f.patched([
		{"op": "remove", "path": concat("", [f.pod_spec_path, "/securityContext/runAsNonRoot"])},
		{"op": "add", "path": concat("", [f.container_path, "/securityContext/runAsNonRoot"]), "value": true},
	])
	allows("runasnonroot", obj)
}

test_runasnonroot_denies_unset if {
	obj := f.patched([{"op": "remove", "path": concat("", [f.pod_spec_path, "/securityContext/runAsNonRoot"])}])
	denies("runasnonroot", obj, "may run as root")
}

test_runasnonroot_denies_container_override if {
	obj := f.patched([{"op": "add", "path": concat("", [f.container_path, "/securityContext/runAsNonRoot"]), "value": false}])
	denies("runasnonroot", obj, "may run as root")
}

test_runasnonroot_denies_uid_zero if {
	obj := f.patched([{"op": "add", "path": concat("", [f.container_path, "/securityContext/runAsUser"]), "value": 0}])
	denies("runasnonroot", obj, "runAsUser: 0")
}

# --- readonlyrootfs
test_readonlyrootfs_allows if allows("readonlyrootfs", f.deployment)

test_readonlyrootfs_denies if {
	obj := f.patched([{"op": "replace", "path": concat("", [f.container_path, "/securityContext/readOnlyRootFilesystem"]), "value": false}])
	denies("readonlyrootfs", obj, "writable root filesystem")
}

# --- capabilities
test_capabilities_allows_drop_all if allows("capabilities", f.deployment)

test_capabilities_allows_listed if {
	obj := f.patched([{"op": "add", "path": concat("", [f.container_path, "/securityContext/capabilities/add"]), "value": ["NET_BIND_SERVICE"]}])
	count(rules.capabilities.violation) == 0 with input as {"review": {"object": obj}, "parameters": {"allowed": ["NET_BIND_SERVICE"]}}
}

test_capabilities_denies_added if {
	obj := f.patched([{"op": "add", "path": concat("", [f.container_path, "/securityContext/capabilities/add"]), "value": ["NET_ADMIN"]}])
	denies("capabilities", obj, "adds the capability NET_ADMIN")
}

# --- hostpath
test_hostpath_allows_emptydir if allows("hostpath", f.deployment)

test_hostpath_denies if {
	obj := f.patched([{"op": "add", "path": concat("", [f.pod_spec_path, "/volumes/-"]), "value": {"name": "docker", "hostPath": {"path": "/var/run/docker.sock"}}}])
	denies("hostpath", obj, "/var/run/docker.sock")
}

# --- hostnamespaces
test_hostnamespaces_allows if allows("hostnamespaces", f.deployment)

test_hostnamespaces_denies_each if {
	every field in ["hostNetwork", "hostPID", "hostIPC"] {
		denies("hostnamespaces", f.patched([{"op": "add", "path": concat("/", [f.pod_spec_path, field]), "value": true}]), field)
	}
}

# --- probes
test_probes_allows if allows("probes", f.deployment)

test_probes_denies_missing_readiness if {
	obj := f.patched([{"op": "remove", "path": concat("", [f.container_path, "/readinessProbe"])}])
	denies("probes", obj, "has no readinessProbe")
}

test_probes_denies_missing_liveness if {
	obj := f.patched([{"op": "remove", "path": concat("", [f.container_path, "/livenessProbe"])}])
	denies("probes", obj, "has no livenessProbe")
}

# --- imagepullpolicy
test_imagepullpolicy_allows if allows("imagepullpolicy", f.deployment)

test_imagepullpolicy_denies if {
	obj := f.patched([{"op": "remove", "path": concat("", [f.container_path, "/imagePullPolicy"])}])
	denies("imagepullpolicy", obj, "does not set imagePullPolicy")
}

# --- every workload kind is read, and non-workloads are ignored
test_rules_read_pods_and_cronjobs if {
	bad := json.patch(f.pod, [{"op": "remove", "path": "/spec/containers/0/imagePullPolicy"}])
	denies("imagepullpolicy", bad, "Pod/one-off")
	allows("imagepullpolicy", f.cronjob)
	badjob := json.patch(f.cronjob, [{"op": "replace", "path": "/spec/jobTemplate/spec/template/spec/containers/0/securityContext/privileged", "value": true}])
	denies("privileged", badjob, "CronJob/nightly")
}

test_rules_ignore_services if {
	svc := {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "workorders"}, "spec": {}}
	every name in ["requiredresources", "disallowlatest", "allowedregistries", "privileged", "privilegeescalation", "runasnonroot", "readonlyrootfs", "capabilities", "hostpath", "hostnamespaces", "probes", "imagepullpolicy"] {
		allows(name, svc)
	}
}

# --- the shift-left entry point reports the same violations with the object's index
test_shiftleft_reports_rule_and_index if {
	bad := f.patched([{"op": "replace", "path": concat("", [f.container_path, "/securityContext/privileged"]), "value": true}])
	result := data.shiprail.kubernetes.shiftleft.violations with input as {"objects": [f.deployment, bad], "rules": {"privileged": {}, "probes": {}}}
	count(result) == 1
	some v in result
	v.rule == "privileged"
	v.index == 1
}
