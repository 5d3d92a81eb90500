# METADATA
# title: Disallow host namespaces
# description: >-
#   Pods must not share the host's network, PID or IPC namespace (hostNetwork,
#   hostPID, hostIPC); doing so exposes the node's interfaces, processes and shared memory.
# custom:
#   enforcement: deny
#   failure: fail-closed
#   scope:
#     kinds: [Pod, apps/Deployment, apps/StatefulSet, apps/DaemonSet, apps/ReplicaSet, ReplicationController, batch/Job, batch/CronJob]
#     operations: [CREATE, UPDATE]
#     subresources: ["", ephemeralcontainers]
package policies.disallow_host_namespaces

import data.lib.kubernetes as k8s

namespaces := {
	"hostNetwork": "network",
	"hostPID": "PID",
	"hostIPC": "IPC",
}

deny contains msg if {
	some field, namespace in namespaces
	k8s.pod_spec[field] == true
	msg := sprintf("pod shares the host %s namespace (%s.%s)", [namespace, k8s.pod_spec_field, field])
}
