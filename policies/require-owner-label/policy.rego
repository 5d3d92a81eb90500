# METADATA
# title: Require an owner label
# description: >-
#   Namespaces and workloads must carry a non-empty owner label (metadata.labels.owner)
#   naming the team that owns them. Bare Pods are exempt - their controller is labeled.
# custom:
#   enforcement: dryrun
#   failure: fail-closed
#   scope:
#     kinds: [Namespace, apps/Deployment, apps/StatefulSet, apps/DaemonSet, apps/ReplicaSet, ReplicationController, batch/Job, batch/CronJob]
#     operations: [CREATE, UPDATE]
#     subresources: [""]
package policies.require_owner_label

import data.lib.kubernetes as k8s

_applies if k8s.is_namespace

_applies if k8s.is_workload_kind

deny contains msg if {
	_applies
	not _has_owner
	msg := sprintf("%s has no \"owner\" label (metadata.labels.owner)", [_subject])
}

_has_owner if {
	owner := input.request.object.metadata.labels.owner
	is_string(owner)
	owner != ""
}

# `Deployment "web"`, or just the kind when the object has no name yet.
_subject := sprintf("%s \"%s\"", [k8s.kind, k8s.name]) if {
	k8s.name != ""
} else := k8s.kind
