# METADATA
# title: Default seccomp profile
# description: >-
#   Sets the pod's seccomp profile to RuntimeDefault (securityContext.seccompProfile)
#   on create when the pod spec sets none. Windows pods, which can not have one, are left alone.
# custom:
#   enforcement: deny
#   failure: fail-open
#   scope:
#     kinds: [Pod, apps/Deployment, apps/StatefulSet, apps/DaemonSet, apps/ReplicaSet, ReplicationController, batch/Job, batch/CronJob]
#     operations: [CREATE]
#     subresources: [""]
package policies.default_seccomp_profile

import data.lib.kubernetes as k8s

profile := {"type": "RuntimeDefault"}

# The pod spec has no securityContext: add one holding the profile.
patch contains {"op": "add", "path": concat("/", [k8s.pod_spec_path, "securityContext"]), "value": {"seccompProfile": profile}} if {
	_applies
	not k8s.has_value(k8s.pod_spec, "securityContext")
}

# The pod spec has a securityContext without a seccompProfile: add the profile.
patch contains {"op": "add", "path": concat("/", [k8s.pod_spec_path, "securityContext/seccompProfile"]), "value": profile} if {
	_applies
	is_object(k8s.pod_spec.securityContext)
	not k8s.has_value(k8s.pod_spec.securityContext, "seccompProfile")
}

_applies if {
	input.request.operation == "CREATE"
	object.get(input.request, "subResource", "") == ""
	is_object(k8s.pod_spec)
	not _windows
}

_windows if k8s.pod_spec.os.name == "windows"
