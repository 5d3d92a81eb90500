# METADATA
# title: Require resource limits
# description: >-
#   Containers and init containers must set CPU and memory limits
#   (resources.limits.cpu and resources.limits.memory). Ephemeral containers can not
#   set resources and are exempt.
# custom:
#   enforcement: warn
#   failure: fail-closed
#   scope:
#     kinds: [Pod, apps/Deployment, apps/StatefulSet, apps/DaemonSet, apps/ReplicaSet, ReplicationController, batch/Job, batch/CronJob]
#     operations: [CREATE, UPDATE]
#     subresources: ["", ephemeralcontainers]
package policies.require_resource_limits

import data.lib.kubernetes as k8s

resources := {"cpu": "CPU", "memory": "memory"}

deny contains msg if {
	some ct in k8s.resourced_containers
	some resource, label in resources
	not _has_limit(ct.container, resource)
	msg := sprintf("%s has no %s limit (resources.limits.%s)", [k8s.describe(ct), label, resource])
}

_has_limit(container, resource) if container.resources.limits[resource] != null
