package lib.kubernetes_test

import data.lib.kubernetes as k8s
import data.lib.testing as t

# --- pod_spec and its paths ----------------------------------------------------

spec := {"containers": [{"name": "app", "image": "registry.k8s.io/pause:3.10"}], "hostNetwork": true}

test_pod_spec_of_every_pod_spec_kind if {
	every kind in t.pod_spec_kinds {
		got := k8s.pod_spec with input as t.pod_review(kind, spec)
		t.eq(kind, got, spec)
	}
}

test_pod_spec_path_of_every_pod_spec_kind if {
	every kind in t.pod_spec_kinds {
		got := k8s.pod_spec_path with input as t.pod_review(kind, spec)
		t.eq(kind, got, t.pod_spec_paths[kind])
	}
}

test_pod_spec_field_of_every_pod_spec_kind if {
	every kind in t.pod_spec_kinds {
		got := k8s.pod_spec_field with input as t.pod_review(kind, spec)
		t.eq(kind, got, t.pod_spec_fields[kind])
	}
}

# Other kinds have no pod spec, even when their object has a spec.template.spec
# (PodTemplate keeps it at template.spec) or the kind name is reused by another group.
test_no_pod_spec_for_other_kinds if {
	cases := [
		{"name": "Namespace", "input": t.review("Namespace", {"metadata": {"name": "team-a"}, "spec": spec})},
		{"name": "Service", "input": t.review("Service", {"metadata": {"name": "web"}, "spec": spec})},
		{"name": "ConfigMap", "input": t.review("ConfigMap", {"metadata": {"name": "web"}, "data": {}})},
		{"name": "PodTemplate", "input": t.review("PodTemplate", {"metadata": {"name": "web"}, "template": {"spec": spec}})},
		{
			"name": "Deployment in another group",
			"input": t.with_group(t.pod_review("Deployment", spec), "example.com"),
		},
		{
			"name": "Pod in another group",
			"input": t.with_group(t.pod_review("Pod", spec), "metrics.k8s.io"),
		},
	]
	every c in cases {
		t.eq(c.name, [x | x := k8s.pod_spec with input as c.input], [])
		t.eq(c.name, [x | x := k8s.pod_spec_path with input as c.input], [])
		t.eq(c.name, [x | some x in k8s.containers with input as c.input], [])
	}
}

test_no_pod_spec_on_delete if {
	review := object.union(
		t.review_op("Pod", t.object_of("Pod", spec), "DELETE", ""),
		{"request": {"object": null, "oldObject": t.object_of("Pod", spec)}},
	)
	not k8s.pod_spec with input as review
	count(k8s.containers) == 0 with input as review
}

# --- kinds ---------------------------------------------------------------------

# The kind predicates that hold for the current input.
predicates contains "pod" if k8s.is_pod

predicates contains "namespace" if k8s.is_namespace

predicates contains "cronjob" if k8s.is_cronjob

predicates contains "pod_controller" if k8s.is_pod_controller_kind

predicates contains "workload" if k8s.is_workload_kind

predicates contains "pod_spec" if k8s.has_pod_spec

test_kind_predicates if {
	want := {
		"Pod": {"pod", "pod_spec"},
		"Deployment": {"pod_controller", "workload", "pod_spec"},
		"StatefulSet": {"pod_controller", "workload", "pod_spec"},
		"DaemonSet": {"pod_controller", "workload", "pod_spec"},
		"ReplicaSet": {"pod_controller", "workload", "pod_spec"},
		"ReplicationController": {"pod_controller", "workload", "pod_spec"},
		"Job": {"pod_controller", "workload", "pod_spec"},
		"CronJob": {"cronjob", "workload", "pod_spec"},
		"Namespace": {"namespace"},
		"Service": set(),
		"PodTemplate": set(),
		"ConfigMap": set(),
	}
	every kind, gvk in t.gvk {
		got := predicates with input as t.review(kind, {"metadata": {"name": "x"}})
		t.eq(gvk, got, want[kind])
	}
}

test_kind_predicates_need_the_group if {
	cases := [
		{"kind": "Deployment", "group": ""},
		{"kind": "Deployment", "group": "extensions"},
		{"kind": "Job", "group": "apps"},
		{"kind": "CronJob", "group": "batch.example.com"},
		{"kind": "Pod", "group": "apps"},
		{"kind": "Namespace", "group": "example.com"},
		{"kind": "ReplicationController", "group": "apps"},
	]
	every c in cases {
		review := t.with_group(t.review(c.kind, {"metadata": {"name": "x"}}), c.group)
		got := predicates with input as review
		t.eq(c, got, set())
	}
}

# A core-group kind may come without the group key at all.
test_core_group_without_group_key if {
	review := json.remove(t.pod_review("Pod", spec), ["request/kind/group"])
	k8s.pod_spec == spec with input as review
}

# --- containers ----------------------------------------------------------------

all_types_spec := {
	"containers": [{"name": "app", "image": "a"}, {"name": "sidecar", "image": "b"}],
	"initContainers": [{"name": "setup", "image": "c"}],
	"ephemeralContainers": [{"name": "debugger", "image": "d"}],
}

test_containers_cover_every_container_type_in_every_kind_family if {
	every kind in t.pod_spec_kinds {
		got := k8s.containers with input as t.pod_review(kind, all_types_spec)
		t.eq(kind, got, [
			{"container": {"name": "app", "image": "a"}, "type": "container", "field": "containers", "index": 0},
			{"container": {"name": "sidecar", "image": "b"}, "type": "container", "field": "containers", "index": 1},
			{"container": {"name": "setup", "image": "c"}, "type": "init container", "field": "initContainers", "index": 0},
			{"container": {"name": "debugger", "image": "d"}, "type": "ephemeral container", "field": "ephemeralContainers", "index": 0},
		])
	}
}

test_resourced_containers_leave_out_ephemeral_containers if {
	got := [[ct.field, ct.index] | some ct in k8s.resourced_containers] with input as t.pod_review("Deployment", all_types_spec)
	got == [["containers", 0], ["containers", 1], ["initContainers", 0]]
}

test_containers_with_only_containers if {
	got := {ct.container.name | some ct in k8s.containers} with input as t.pod_review("Pod", {"containers": [{"name": "app"}]})
	got == {"app"}
}

test_describe_and_container_path if {
	cases := [
		{"kind": "Pod", "ct": {"container": {"name": "app"}, "type": "container", "field": "containers", "index": 0}, "describe": `container "app"`, "path": "/spec/containers/0"},
		{"kind": "Deployment", "ct": {"container": {"name": "setup"}, "type": "init container", "field": "initContainers", "index": 2}, "describe": `init container "setup"`, "path": "/spec/template/spec/initContainers/2"},
		{"kind": "CronJob", "ct": {"container": {"name": "dbg"}, "type": "ephemeral container", "field": "ephemeralContainers", "index": 1}, "describe": `ephemeral container "dbg"`, "path": "/spec/jobTemplate/spec/template/spec/ephemeralContainers/1"},
		{"kind": "Pod", "ct": {"container": {}, "type": "container", "field": "containers", "index": 0}, "describe": `container ""`, "path": "/spec/containers/0"},
	]
	every c in cases {
		review := t.pod_review(c.kind, spec)
		t.eq(c, k8s.describe(c.ct), c.describe)
		t.eq(c, k8s.container_path(c.ct), c.path) with input as review
	}
}

# --- name ------------------------------------------------------------------------

test_name_fallbacks if {
	cases := [
		{"name": "metadata.name", "object": {"metadata": {"name": "web"}}, "request_name": "other", "want": "web"},
		{"name": "request name", "object": {"metadata": {}}, "request_name": "web", "want": "web"},
		{"name": "generateName", "object": {"metadata": {"generateName": "web-"}}, "request_name": "", "want": "web-"},
		{"name": "nothing", "object": {"metadata": {}}, "request_name": "", "want": ""},
		{"name": "no metadata", "object": {}, "request_name": "", "want": ""},
	]
	every c in cases {
		review := {"request": {"kind": t.gvk.Deployment, "name": c.request_name, "object": c.object}}
		got := k8s.name with input as review
		t.eq(c.name, got, c.want)
	}
}

# --- has_value -------------------------------------------------------------------

test_has_value if {
	k8s.has_value({"a": {}}, "a")
	k8s.has_value({"a": false}, "a")
	k8s.has_value({"a": 0}, "a")
	not k8s.has_value({"a": null}, "a")
	not k8s.has_value({}, "a")
}

# --- parse_image -----------------------------------------------------------------

image_cases := [
	{"ref": "nginx", "want": {"registry": "docker.io", "repository": "library/nginx", "tag": "", "digest": ""}},
	{"ref": "nginx:1.27", "want": {"registry": "docker.io", "repository": "library/nginx", "tag": "1.27", "digest": ""}},
	{"ref": "nginx:latest", "want": {"registry": "docker.io", "repository": "library/nginx", "tag": "latest", "digest": ""}},
	{"ref": "bitnami/redis:7.2", "want": {"registry": "docker.io", "repository": "bitnami/redis", "tag": "7.2", "digest": ""}},
	{"ref": "docker.io/nginx:1.27", "want": {"registry": "docker.io", "repository": "library/nginx", "tag": "1.27", "digest": ""}},
	{"ref": "index.docker.io/library/nginx", "want": {"registry": "docker.io", "repository": "library/nginx", "tag": "", "digest": ""}},
	{"ref": "INDEX.DOCKER.IO/nginx:1", "want": {"registry": "docker.io", "repository": "library/nginx", "tag": "1", "digest": ""}},
	{"ref": "registry.k8s.io/pause:3.10", "want": {"registry": "registry.k8s.io", "repository": "pause", "tag": "3.10", "digest": ""}},
	{"ref": "Registry.K8s.IO/pause:3.10", "want": {"registry": "registry.k8s.io", "repository": "pause", "tag": "3.10", "digest": ""}},
	{"ref": "registry.k8s.io.evil.example/pause:3.10", "want": {"registry": "registry.k8s.io.evil.example", "repository": "pause", "tag": "3.10", "digest": ""}},
	{"ref": "registry.k8s.io:5000/pause", "want": {"registry": "registry.k8s.io:5000", "repository": "pause", "tag": "", "digest": ""}},
	{"ref": "ghcr.io/org/team/app:v1.2.3", "want": {"registry": "ghcr.io", "repository": "org/team/app", "tag": "v1.2.3", "digest": ""}},
	{"ref": "localhost/app", "want": {"registry": "localhost", "repository": "app", "tag": "", "digest": ""}},
	{"ref": "localhost:5000/app", "want": {"registry": "localhost:5000", "repository": "app", "tag": "", "digest": ""}},
	{"ref": "localhost:5000/app:1.2", "want": {"registry": "localhost:5000", "repository": "app", "tag": "1.2", "digest": ""}},
	{"ref": "localhost", "want": {"registry": "docker.io", "repository": "library/localhost", "tag": "", "digest": ""}},
	{"ref": "myregistry/app:1", "want": {"registry": "docker.io", "repository": "myregistry/app", "tag": "1", "digest": ""}},
	{"ref": "10.0.0.1:5000/team/app:2", "want": {"registry": "10.0.0.1:5000", "repository": "team/app", "tag": "2", "digest": ""}},
	{"ref": "[::1]:5000/app:3", "want": {"registry": "[::1]:5000", "repository": "app", "tag": "3", "digest": ""}},
	{
		"ref": "nginx@sha256:0000000000000000000000000000000000000000000000000000000000000000",
		"want": {"registry": "docker.io", "repository": "library/nginx", "tag": "", "digest": "sha256:0000000000000000000000000000000000000000000000000000000000000000"},
	},
	{
		"ref": "quay.io/org/app:latest@sha256:1111111111111111111111111111111111111111111111111111111111111111",
		"want": {"registry": "quay.io", "repository": "org/app", "tag": "latest", "digest": "sha256:1111111111111111111111111111111111111111111111111111111111111111"},
	},
	{
		"ref": "localhost:5000/app@sha256:2222222222222222222222222222222222222222222222222222222222222222",
		"want": {"registry": "localhost:5000", "repository": "app", "tag": "", "digest": "sha256:2222222222222222222222222222222222222222222222222222222222222222"},
	},
]

test_parse_image if {
	every c in image_cases {
		t.eq(c.ref, k8s.parse_image(c.ref), c.want)
	}
}

# Odd references, read as parse_image has always read them (a trailing ":" or "/",
# several ":", a host alone, non-ASCII text around the separators).
odd_image_cases := [
	{"ref": "nginx:", "want": {"registry": "docker.io", "repository": "library/nginx", "tag": "", "digest": ""}},
	{"ref": "a:b:c", "want": {"registry": "docker.io", "repository": "library/a:b", "tag": "c", "digest": ""}},
	{"ref": "nginx/", "want": {"registry": "docker.io", "repository": "nginx/", "tag": "", "digest": ""}},
	{"ref": "localhost:5000", "want": {"registry": "docker.io", "repository": "library/localhost", "tag": "5000", "digest": ""}},
	{"ref": "h.io/a:1/b:2:3", "want": {"registry": "h.io", "repository": "a:1/b:2", "tag": "3", "digest": ""}},
	{"ref": "h.io/app:ü:é", "want": {"registry": "h.io", "repository": "app:ü", "tag": "é", "digest": ""}},
	{"ref": "", "want": {"registry": "docker.io", "repository": "library/", "tag": "", "digest": ""}},
	{"ref": "app:1@@x", "want": {"registry": "docker.io", "repository": "library/app", "tag": "1", "digest": "@x"}},
]

test_parse_image_odd_references if {
	every c in odd_image_cases {
		t.eq(c.ref, k8s.parse_image(c.ref), c.want)
	}
}

test_image_pin_is_parse_image_tag_and_digest if {
	every c in array.concat(image_cases, odd_image_cases) {
		t.eq(c.ref, k8s.image_pin(c.ref), {"tag": c.want.tag, "digest": c.want.digest})
	}
}

test_image_pin_undefined_for_non_strings if {
	not k8s.image_pin(null)
	not k8s.image_pin(42)
	not k8s.image_pin({"image": "nginx"})
}

test_parse_image_undefined_for_non_strings if {
	not k8s.parse_image(null)
	not k8s.parse_image(42)
	not k8s.parse_image({"image": "nginx"})
}
