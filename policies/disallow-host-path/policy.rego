# METADATA
# title: Disallow hostPath volumes
# description: >-
#   Pods must not mount hostPath volumes; a hostPath volume gives the pod the node's
#   filesystem, from which it can escape to the node.
# custom:
#   enforcement: deny
#   failure: fail-closed
#   scope:
#     kinds: [Pod, apps/Deployment, apps/StatefulSet, apps/DaemonSet, apps/ReplicaSet, ReplicationController, batch/Job, batch/CronJob]
#     operations: [CREATE, UPDATE]
#     subresources: ["", ephemeralcontainers]
package policies.disallow_host_path

import data.lib.kubernetes as k8s

deny contains msg if {
	some volume in k8s.pod_spec.volumes
	k8s.has_value(volume, "hostPath")
	msg := sprintf("volume \"%v\" mounts host path \"%v\" (hostPath)", [object.get(volume, "name", ""), _path(volume.hostPath)])
}

_path(host_path) := host_path.path if is_string(host_path.path)

else := ""
