# METADATA
# title: Default resource requests
# description: >-
#   Gives containers and init containers that set no resources.requests the CPU and
#   memory requests from this policy's data (requests), on create. A resource that has
#   a limit is requested at its limit instead, as Kubernetes itself defaults it.
# custom:
#   enforcement: deny
#   failure: fail-open
#   scope:
#     kinds: [Pod, apps/Deployment, apps/StatefulSet, apps/DaemonSet, apps/ReplicaSet, ReplicationController, batch/Job, batch/CronJob]
#     operations: [CREATE]
#     subresources: [""]
package policies.default_resource_requests

import data.lib.kubernetes as k8s

# The container has no resources: add resources with the requests.
patch contains {"op": "add", "path": concat("/", [k8s.container_path(ct), "resources"]), "value": {"requests": _requests(ct)}} if {
	_applies
	some ct in k8s.resourced_containers
	not k8s.has_value(ct.container, "resources")
}

# The container has resources without requests: add the requests.
patch contains {"op": "add", "path": concat("/", [k8s.container_path(ct), "resources/requests"]), "value": _requests(ct)} if {
	_applies
	some ct in k8s.resourced_containers
	is_object(ct.container.resources)
	not _has_requests(ct.container.resources)
}

_applies if {
	input.request.operation == "CREATE"
	object.get(input.request, "subResource", "") == ""
	is_object(data.policies.default_resource_requests.requests)
	count(data.policies.default_resource_requests.requests) > 0
}

# An empty requests object counts as none.
_has_requests(resources) if {
	is_object(resources.requests)
	count(resources.requests) > 0
}

# The requests for container ct: each resource in the data's requests, at the
# container's limit for it when it has one (a request above the limit is invalid).
_requests(ct) := {resource: value |
	some resource, fallback in data.policies.default_resource_requests.requests
	value := _request(ct.container, resource, fallback)
}

_request(container, resource, fallback) := container.resources.limits[resource] if {
	container.resources.limits[resource] != null
} else := fallback
