# METADATA
# title: Kubernetes helpers for bouncer policies
# description: >-
#   Shared helpers over the AdmissionReview input - the request kind, the pod spec
#   of Pods and of the pod templates of workload kinds, its containers, and image
#   reference parsing. Everything here compiles to WebAssembly.
package lib.kubernetes

# --- the request -------------------------------------------------------------

request := input.request

# The requested object's kind and API group ("" for the core group).
kind := request.kind.kind

group := object.get(request.kind, "group", "")

# The object's name: metadata.name, else the request's name, else
# metadata.generateName (an object created with generateName has no name yet), else "".
name := request.object.metadata.name if {
	is_string(request.object.metadata.name)
	request.object.metadata.name != ""
} else := request.name if {
	is_string(request.name)
	request.name != ""
} else := request.object.metadata.generateName if {
	is_string(request.object.metadata.generateName)
} else := ""

# --- kinds -------------------------------------------------------------------

# Kinds whose object carries a pod template at spec.template.
pod_controller_kinds := {
	{"group": "apps", "kind": "Deployment"},
	{"group": "apps", "kind": "StatefulSet"},
	{"group": "apps", "kind": "DaemonSet"},
	{"group": "apps", "kind": "ReplicaSet"},
	{"group": "", "kind": "ReplicationController"},
	{"group": "batch", "kind": "Job"},
}

is_pod if {
	group == ""
	kind == "Pod"
}

is_namespace if {
	group == ""
	kind == "Namespace"
}

is_cronjob if {
	group == "batch"
	kind == "CronJob"
}

# A kind with a pod template at spec.template: one of pod_controller_kinds, spelled out
# as comparisons. Every policy evaluates this on every review (pod_spec asks it), and
# in WASM `{"group": group, "kind": kind} in pod_controller_kinds` builds the set and
# compares the object with each member, sorting both objects' keys each time: at 300
# policies that was about half of what a review of a ConfigMap cost.
is_pod_controller_kind if {
	group == "apps"
	kind == "Deployment"
}

is_pod_controller_kind if {
	group == "apps"
	kind == "StatefulSet"
}

is_pod_controller_kind if {
	group == "apps"
	kind == "DaemonSet"
}

is_pod_controller_kind if {
	group == "apps"
	kind == "ReplicaSet"
}

is_pod_controller_kind if {
	group == ""
	kind == "ReplicationController"
}

is_pod_controller_kind if {
	group == "batch"
	kind == "Job"
}

# A workload kind: one that creates Pods from a template (not a bare Pod).
is_workload_kind if is_pod_controller_kind

is_workload_kind if is_cronjob

# A kind that has a pod spec: a Pod or a workload kind.
has_pod_spec if is_pod

has_pod_spec if is_workload_kind

# --- the pod spec --------------------------------------------------------------

# The pod spec of the requested object; undefined for other kinds.
pod_spec := request.object.spec if is_pod

pod_spec := request.object.spec.template.spec if is_pod_controller_kind

pod_spec := request.object.spec.jobTemplate.spec.template.spec if is_cronjob

# The JSONPatch path of pod_spec, relative to the object root.
pod_spec_path := "/spec" if is_pod

pod_spec_path := "/spec/template/spec" if is_pod_controller_kind

pod_spec_path := "/spec/jobTemplate/spec/template/spec" if is_cronjob

# pod_spec_path as a dotted field path, for messages: "spec.template.spec".
pod_spec_field := concat(".", array.slice(split(pod_spec_path, "/"), 1, 10))

# --- containers ----------------------------------------------------------------

container_fields := [
	{"field": "containers", "type": "container"},
	{"field": "initContainers", "type": "init container"},
	{"field": "ephemeralContainers", "type": "ephemeral container"},
]

# Every container of pod_spec, in order (containers, init containers, ephemeral
# containers), each as
#   {"container": c, "type": "container" | "init container" | "ephemeral container",
#    "field": "containers" | "initContainers" | "ephemeralContainers", "index": i}.
# An array, not a set: a set hashes every whole container object on insertion, and
# that cost is paid again by every policy that reads it (the WASM evaluator shares no
# rule results between entrypoints) — 6.8x slower at 100 policies and ~100 KB reviews.
containers := [{"container": c, "type": f.type, "field": f.field, "index": i} |
	some f in container_fields
	some i, c in pod_spec[f.field]
]

# Containers that run with resources: containers and init containers (ephemeral
# containers can not set resources). An array, like containers.
resourced_containers := [ct |
	some ct in containers
	ct.field != "ephemeralContainers"
]

# How messages name a container: `container "app"`, `init container "setup"`.
describe(ct) := sprintf("%s \"%v\"", [ct.type, object.get(ct.container, "name", "")])

# The JSONPatch path of a container: "/spec/template/spec/containers/0".
container_path(ct) := sprintf("%s/%s/%d", [pod_spec_path, ct.field, ct.index])

# --- values --------------------------------------------------------------------

# obj has key set to something other than null.
has_value(obj, key) if obj[key] != null

# --- image references ----------------------------------------------------------

# Parses an image reference the way container runtimes normalize it:
#   "nginx"                          -> docker.io, library/nginx, no tag
#   "ghcr.io/org/app:1.2@sha256:..." -> ghcr.io, org/app, tag 1.2, digest sha256:...
#   "localhost:5000/app"             -> localhost:5000, app, no tag
# The first path segment is the registry host only if it contains "." or ":" or is
# "localhost"; otherwise the host is docker.io. index.docker.io normalizes to
# docker.io. The host is lowercased. The tag is what follows the last ":" in the
# last path segment; the digest is what follows the first "@". A missing tag or
# digest is "".
#
# No arithmetic here: in WASM, `count(x) - 1` goes through decimal big numbers and
# was a fifth of a policy's cost on large Pods. The last element of an array is taken
# as array.reverse(a)[0], and the text after the last ":" by strings.reverse.
parse_image(ref) := {
	"registry": registry,
	"repository": repository,
	"tag": tag,
	"digest": digest,
} if {
	is_string(ref)
	[name_tag, digest] := _split_digest(ref)
	segments := split(name_tag, "/")
	[host, path] := _split_host(segments)
	registry := normalize_registry(host)
	last := array.reverse(path)[0]
	[repo_last, tag] := _split_tag(last)
	joined := concat("/", path)
	repository := _normalize_repository(registry, concat("", [trim_suffix(joined, last), repo_last]))
}

# The tag and the digest of an image reference, as parse_image reports them, without the
# registry and repository (for a policy that only asks whether an image is pinned: a
# fraction of the work of parse_image).
image_pin(ref) := {"tag": _tag(name_tag), "digest": digest} if {
	is_string(ref)
	[name_tag, digest] := _split_digest(ref)
}

# The tag of a name without digest: what follows its last ":" when no "/" follows, else "".
# The same as parse_image's: its tag is what follows the last ":" of the name's last "/"
# segment (with a host, the path ends with that segment too).
_tag(name) := tag if {
	contains(name, ":")
	tag := strings.reverse(split(strings.reverse(name), ":")[0])
	not contains(tag, "/")
} else := ""

_split_digest(ref) := [substring(ref, 0, i), substring(ref, i + 1, -1)] if {
	i := indexof(ref, "@")
	i >= 0
} else := [ref, ""]

_split_host(segments) := [segments[0], array.slice(segments, 1, count(segments))] if {
	count(segments) > 1
	_is_host(segments[0])
} else := ["docker.io", segments]

_is_host(s) if contains(s, ".")

_is_host(s) if contains(s, ":")

_is_host("localhost")

# A registry host as parse_image reports it: lowercased, index.docker.io as docker.io.
normalize_registry(host) := "docker.io" if {
	lower(host) == "index.docker.io"
} else := lower(host)

# [what precedes the last ":", what follows it], or [segment, ""] without a ":". The
# segment ends with ":" and the tag, so trimming that suffix leaves what precedes it.
_split_tag(segment) := [trim_suffix(segment, concat("", [":", tag])), tag] if {
	contains(segment, ":")
	tag := strings.reverse(split(strings.reverse(segment), ":")[0])
} else := [segment, ""]

_normalize_repository(registry, repository) := concat("/", ["library", repository]) if {
	registry == "docker.io"
	not contains(repository, "/")
} else := repository
