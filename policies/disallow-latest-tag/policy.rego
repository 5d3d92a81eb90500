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

# One walk over the containers and one image_pin per image (each deny rule would walk
# them and parse every image again: every policy pays for what it evaluates, on every review).
deny contains msg if {
	some ct in k8s.containers
	image := ct.container.image
	pin := k8s.image_pin(image)
	pin.digest == ""
	problem := _unpinned(image, pin.tag)
	msg := sprintf("%s image \"%s\" %s; pin a version or digest", [k8s.describe(ct), image, problem])
}

# Only strings go to the helper: the container itself stays out of it, so that what the
# policy reads of the object stays visible (bouncer replay skips a policy that may read
# masked values, such as a container's env).
_unpinned(_, "latest") := "uses the \"latest\" tag"

_unpinned(image, "") := "has no tag or digest" if image != ""
