# METADATA
# title: Disallow privileged containers
# description: >-
#   Containers, init containers and ephemeral containers must not run privileged; a
#   privileged container has all of the host's capabilities and devices.
# custom:
#   enforcement: deny
#   failure: fail-closed
#   scope:
#     kinds: [Pod, apps/Deployment, apps/StatefulSet, apps/DaemonSet, apps/ReplicaSet, ReplicationController, batch/Job, batch/CronJob]
#     operations: [CREATE, UPDATE]
#     subresources: ["", ephemeralcontainers]
package policies.disallow_privileged

import data.lib.kubernetes as k8s

deny contains msg if {
	some ct in k8s.containers
	ct.container.securityContext.privileged == true
	msg := sprintf("%s is privileged (securityContext.privileged)", [k8s.describe(ct)])
}
