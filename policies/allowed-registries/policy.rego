# METADATA
# title: Allowed image registries
# description: >-
#   Every container image must come from a registry listed in this policy's data
#   (registries). References are normalized as container runtimes do - "nginx" is
#   docker.io/library/nginx - and registry hosts compare exactly, port included.
# custom:
#   enforcement: deny
#   failure: fail-closed
#   scope:
#     kinds: [Pod, apps/Deployment, apps/StatefulSet, apps/DaemonSet, apps/ReplicaSet, ReplicationController, batch/Job, batch/CronJob]
#     operations: [CREATE, UPDATE]
#     subresources: ["", ephemeralcontainers]
package policies.allowed_registries

import data.lib.kubernetes as k8s

# The allowed registry hosts, lowercased; index.docker.io counts as docker.io.
# No data means no registry is allowed.
allowed contains registry if {
	some r in data.policies.allowed_registries.registries
	registry := k8s.normalize_registry(r)
}

deny contains {"msg": msg, "details": details} if {
	some ct in k8s.containers
	image := ct.container.image
	image != ""
	registry := _registry(image)
	not registry in allowed
	msg := sprintf("%s pulls from registry \"%s\", which is not allowed", [k8s.describe(ct), registry])
	details := {"image": image, "registry": registry, "allowed": sort([r | some r in allowed])}
}

# The registry host of image; "" when image can not be parsed (not a string), which
# no allowed list contains.
_registry(image) := registry if {
	registry := k8s.parse_image(image).registry
} else := ""
