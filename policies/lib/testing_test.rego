# METADATA
# title: Test helpers for bouncer policies
# description: >-
#   Builders of AdmissionReview inputs and a table-test assertion, for the policies'
#   opa unit tests. Policies must not import this package.
package lib.testing

# --- kinds -------------------------------------------------------------------

gvk := {
	"Pod": {"group": "", "version": "v1", "kind": "Pod"},
	"Deployment": {"group": "apps", "version": "v1", "kind": "Deployment"},
	"StatefulSet": {"group": "apps", "version": "v1", "kind": "StatefulSet"},
	"DaemonSet": {"group": "apps", "version": "v1", "kind": "DaemonSet"},
	"ReplicaSet": {"group": "apps", "version": "v1", "kind": "ReplicaSet"},
	"ReplicationController": {"group": "", "version": "v1", "kind": "ReplicationController"},
	"Job": {"group": "batch", "version": "v1", "kind": "Job"},
	"CronJob": {"group": "batch", "version": "v1", "kind": "CronJob"},
	"Namespace": {"group": "", "version": "v1", "kind": "Namespace"},
	"Service": {"group": "", "version": "v1", "kind": "Service"},
	"PodTemplate": {"group": "", "version": "v1", "kind": "PodTemplate"},
	"ConfigMap": {"group": "", "version": "v1", "kind": "ConfigMap"},
}

resource_names := {
	"Pod": "pods",
	"Deployment": "deployments",
	"StatefulSet": "statefulsets",
	"DaemonSet": "daemonsets",
	"ReplicaSet": "replicasets",
	"ReplicationController": "replicationcontrollers",
	"Job": "jobs",
	"CronJob": "cronjobs",
	"Namespace": "namespaces",
	"Service": "services",
	"PodTemplate": "podtemplates",
	"ConfigMap": "configmaps",
}

# Kinds whose pod template sits at spec.template.
template_kinds := ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job"]

# The workload kinds: everything that creates Pods from a template.
workload_kinds := array.concat(template_kinds, ["CronJob"])

# Every kind with a pod spec.
pod_spec_kinds := array.concat(["Pod"], workload_kinds)

# One kind of each family: a bare Pod, spec.template, spec.jobTemplate.
kind_families := ["Pod", "Deployment", "CronJob"]

container_types := [
	{"field": "containers", "type": "container"},
	{"field": "initContainers", "type": "init container"},
	{"field": "ephemeralContainers", "type": "ephemeral container"},
]

# The JSONPatch path of the pod spec of each kind.
pod_spec_paths := {
	"Pod": "/spec",
	"Deployment": "/spec/template/spec",
	"StatefulSet": "/spec/template/spec",
	"DaemonSet": "/spec/template/spec",
	"ReplicaSet": "/spec/template/spec",
	"ReplicationController": "/spec/template/spec",
	"Job": "/spec/template/spec",
	"CronJob": "/spec/jobTemplate/spec/template/spec",
}

# The dotted field path of the pod spec of each kind, as messages name it.
pod_spec_fields := {
	"Pod": "spec",
	"Deployment": "spec.template.spec",
	"StatefulSet": "spec.template.spec",
	"DaemonSet": "spec.template.spec",
	"ReplicaSet": "spec.template.spec",
	"ReplicationController": "spec.template.spec",
	"Job": "spec.template.spec",
	"CronJob": "spec.jobTemplate.spec.template.spec",
}

# --- objects -----------------------------------------------------------------

api_version(kind) := gvk[kind].version if {
	gvk[kind].group == ""
} else := concat("/", [gvk[kind].group, gvk[kind].version])

metadata := {"name": "web", "namespace": "team-a", "labels": {"app": "web", "owner": "team-a"}}

# A compliant container: allowed registry, pinned tag, limits and requests.
container(name) := {
	"name": name,
	"image": "registry.k8s.io/pause:3.10",
	"resources": {
		"limits": {"cpu": "250m", "memory": "64Mi"},
		"requests": {"cpu": "100m", "memory": "32Mi"},
	},
}

# An ephemeral container as kubectl debug adds it (no resources allowed).
ephemeral_container(name) := {"name": name, "image": "registry.k8s.io/pause:3.10", "targetContainerName": "app"}

# A compliant pod spec with a container "app".
pod_spec := {
	"securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
	"containers": [container("app")],
}

# A compliant pod spec that also holds container c in field ("containers",
# "initContainers" or "ephemeralContainers").
spec_with(field, c) := object.union(pod_spec, {field: array.concat(pod_spec.containers, [c])}) if {
	field == "containers"
} else := object.union(pod_spec, {field: [c]})

# An object of kind (one of pod_spec_kinds) whose pod spec is spec.
object_of("Pod", spec) := {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec}

object_of("CronJob", spec) := {
	"apiVersion": "batch/v1",
	"kind": "CronJob",
	"metadata": metadata,
	"spec": {
		"schedule": "0 * * * *",
		"jobTemplate": {"spec": {"template": {"metadata": {"labels": {"app": "web"}}, "spec": spec}}},
	},
}

object_of(kind, spec) := {
	"apiVersion": api_version(kind),
	"kind": kind,
	"metadata": metadata,
	"spec": {
		"selector": {"matchLabels": {"app": "web"}},
		"template": {"metadata": {"labels": {"app": "web"}}, "spec": spec},
	},
} if {
	kind in template_kinds
}

# --- AdmissionReviews --------------------------------------------------------

# An AdmissionReview of operation op on obj of kind; subresource "" is the main
# resource. UPDATE carries obj as its oldObject too.
review_op(kind, obj, op, subresource) := {
	"apiVersion": "admission.k8s.io/v1",
	"kind": "AdmissionReview",
	"request": object.union(
		{
			"uid": "705ab4f5-6393-11e8-b7cc-42010a800002",
			"kind": gvk[kind],
			"resource": {"group": gvk[kind].group, "version": gvk[kind].version, "resource": resource_names[kind]},
			"requestKind": gvk[kind],
			"operation": op,
			"name": object.get(obj.metadata, "name", ""),
			"object": obj,
			"userInfo": {"username": "alice", "groups": ["system:authenticated"]},
			"dryRun": false,
		},
		_optional(kind, obj, op, subresource),
	),
}

_optional(kind, obj, op, subresource) := object.union(
	object.union(_if_set("subResource", subresource), _if_set("namespace", _namespace(kind))),
	_old_object(obj, op),
)

_if_set(_, "") := {}

_if_set(key, value) := {key: value} if value != ""

_namespace("Namespace") := ""

_namespace(kind) := "team-a" if kind != "Namespace"

_old_object(obj, "UPDATE") := {"oldObject": obj}

_old_object(_, op) := {} if op != "UPDATE"

# A CREATE AdmissionReview of obj of kind.
review(kind, obj) := review_op(kind, obj, "CREATE", "")

# A CREATE AdmissionReview of an object of kind whose pod spec is spec.
pod_review(kind, spec) := review(kind, object_of(kind, spec))

# A kubectl debug request: UPDATE of pods/ephemeralcontainers, the whole Pod as object.
debug_review(spec) := review_op("Pod", object_of("Pod", spec), "UPDATE", "ephemeralcontainers")

# with_group(review, group) is review with its request kind in another API group.
with_group(review, group) := object.union(review, {"request": {"kind": {"group": group}}})

# with_metadata(obj, metadata) is obj with its metadata replaced.
with_metadata(obj, metadata) := object.union(object.remove(obj, ["metadata"]), {"metadata": metadata})

# --- assertions ----------------------------------------------------------------

# (Test code sticks to the builtins the WASM SDK supports, like the policies - no
# json.patch, object.keys or print: the build may compile test files too, with the
# SDK's capabilities.)

# eq(name, got, want) holds when got == want. name identifies the table row: run
# `opa test --var-values` to see name, got and want of the row that fails.
eq(_, got, want) if got == want
