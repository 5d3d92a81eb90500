# METADATA
# title: Disallow the latest tag
# description: >-
#   Images must be pinned - by a tag other than latest, or by a digest. An image
#   with neither a tag nor a digest means latest.
# custom:
#   enforcement: deny
#   failure: fail-closed
#   scope:
#     kinds: [Pod, apps/Deployment, apps/StatefulSet, apps/DaemonSet, apps/ReplicaSet, ReplicationController, batch/Job, batch/CronJob]
#     operations: [CREATE, UPDATE]
#     subresources: ["", ephemeralcontainers]
package policies.disallow_latest_tag

import data.lib.kubernetes as k8s

deny contains msg if {
	some ct in k8s.containers
	image := ct.container.image
	ref := k8s.parse_image(image)
	ref.digest == ""
	ref.tag == "latest"
	msg := sprintf("%s image \"%s\" uses the \"latest\" tag; pin a version or digest", [k8s.describe(ct), image])
}

deny contains msg if {
	some ct in k8s.containers
	image := ct.container.image
	image != ""
	ref := k8s.parse_image(image)
	ref.digest == ""
	ref.tag == ""
	msg := sprintf("%s image \"%s\" has no tag or digest; pin a version or digest", [k8s.describe(ct), image])
}
