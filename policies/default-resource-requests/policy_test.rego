package policies.default_resource_requests_test

import data.lib.testing as t
import data.policies.default_resource_requests as policy

# The shipped defaults (data.json), given explicitly so the tests do not depend on
# where data.json is mounted.
defaults := {"cpu": "100m", "memory": "128Mi"}

bare(name) := {"name": name, "image": "registry.k8s.io/pause:3.10"}

with_resources(name, resources) := object.union(bare(name), {"resources": resources})

# (Tests apply `with data...` in test rules only: opa build -t wasm rejects a
# function that uses `with` on data, and the build may include test files.)

container_cases := [
	{"name": "no resources", "container": bare("x"), "suffix": "resources", "value": {"requests": defaults}},
	{"name": "null resources", "container": with_resources("x", null), "suffix": "resources", "value": {"requests": defaults}},
	{"name": "empty resources", "container": with_resources("x", {}), "suffix": "resources/requests", "value": defaults},
	{"name": "null requests", "container": with_resources("x", {"requests": null}), "suffix": "resources/requests", "value": defaults},
	{"name": "empty requests", "container": with_resources("x", {"requests": {}}), "suffix": "resources/requests", "value": defaults},
	{
		"name": "limits only: requested at the limits",
		"container": with_resources("x", {"limits": {"cpu": "50m", "memory": "64Mi"}}),
		"suffix": "resources/requests",
		"value": {"cpu": "50m", "memory": "64Mi"},
	},
	{
		"name": "cpu limit only: cpu at the limit, memory default",
		"container": with_resources("x", {"limits": {"cpu": "2"}}),
		"suffix": "resources/requests",
		"value": {"cpu": "2", "memory": "128Mi"},
	},
	{
		"name": "claims only",
		"container": with_resources("x", {"claims": [{"name": "gpu"}]}),
		"suffix": "resources/requests",
		"value": defaults,
	},
]

test_containers_and_init_containers_in_every_kind if {
	every kind in t.pod_spec_kinds {
		every ct in [x | some x in t.container_types; x.field != "ephemeralContainers"] {
			every c in container_cases {
				got := policy.patch with input as t.pod_review(kind, t.spec_with(ct.field, c.container))
					with data.policies.default_resource_requests.requests as defaults
				index := count(object.get(t.spec_with(ct.field, c.container), ct.field, [])) - 1
				want := {{"op": "add", "path": sprintf("%s/%s/%d/%s", [t.pod_spec_paths[kind], ct.field, index, c.suffix]), "value": c.value}}
				t.eq([kind, ct.field, c.name], got, want)
			}
		}
	}
}

test_literal_paths if {
	spec := {"containers": [t.container("app"), bare("sidecar")], "initContainers": [with_resources("setup", {"limits": {"memory": "1Gi"}})]}
	policy.patch == {
		{"op": "add", "path": "/spec/containers/1/resources", "value": {"requests": {"cpu": "100m", "memory": "128Mi"}}},
		{"op": "add", "path": "/spec/initContainers/0/resources/requests", "value": {"cpu": "100m", "memory": "1Gi"}},
	} with input as t.pod_review("Pod", spec) with data.policies.default_resource_requests.requests as defaults
	policy.patch == {
		{"op": "add", "path": "/spec/jobTemplate/spec/template/spec/containers/1/resources", "value": {"requests": {"cpu": "100m", "memory": "128Mi"}}},
		{"op": "add", "path": "/spec/jobTemplate/spec/template/spec/initContainers/0/resources/requests", "value": {"cpu": "100m", "memory": "1Gi"}},
	} with input as t.pod_review("CronJob", spec) with data.policies.default_resource_requests.requests as defaults
}

# Idempotency: containers that have requests, even partial ones, get no patch.
test_existing_requests_are_kept if {
	kept := [
		t.container("x"),
		with_resources("x", {"requests": {"cpu": "1"}}),
		with_resources("x", {"requests": {"memory": "1Gi"}, "limits": {"memory": "2Gi"}}),
		with_resources("x", {"requests": {"ephemeral-storage": "1Gi"}}),
	]
	every kind in t.kind_families {
		every ct in [x | some x in t.container_types; x.field != "ephemeralContainers"] {
			every c in kept {
				got := policy.patch with input as t.pod_review(kind, t.spec_with(ct.field, c))
					with data.policies.default_resource_requests.requests as defaults
				t.eq([kind, ct.field, c], got, set())
			}
		}
	}
}

# Idempotency: the pod spec as the patch leaves it gets no second patch.
test_patched_spec_gets_no_second_patch if {
	spec := {
		"containers": [bare("app"), with_resources("sidecar", {"limits": {"cpu": "1"}})],
		"initContainers": [with_resources("setup", {})],
	}
	patched := {
		"containers": [
			with_resources("app", {"requests": defaults}),
			with_resources("sidecar", {"limits": {"cpu": "1"}, "requests": {"cpu": "1", "memory": "128Mi"}}),
		],
		"initContainers": [with_resources("setup", {"requests": defaults})],
	}
	every kind in t.kind_families {
		prefix := t.pod_spec_paths[kind]
		first := policy.patch with input as t.pod_review(kind, spec)
			with data.policies.default_resource_requests.requests as defaults
		t.eq([kind, "first round"], first, {
			{"op": "add", "path": concat("", [prefix, "/containers/0/resources"]), "value": {"requests": defaults}},
			{"op": "add", "path": concat("", [prefix, "/containers/1/resources/requests"]), "value": {"cpu": "1", "memory": "128Mi"}},
			{"op": "add", "path": concat("", [prefix, "/initContainers/0/resources/requests"]), "value": defaults},
		})
		again := policy.patch with input as t.pod_review(kind, patched)
			with data.policies.default_resource_requests.requests as defaults
		t.eq([kind, "second round"], again, set())
	}
}

test_ephemeral_containers_are_left_alone if {
	every kind in t.kind_families {
		got := policy.patch with input as t.pod_review(kind, t.spec_with("ephemeralContainers", t.ephemeral_container("debugger")))
			with data.policies.default_resource_requests.requests as defaults
		t.eq(kind, got, set())
	}
}

test_only_on_create_of_the_main_resource if {
	pod := t.object_of("Pod", {"containers": [bare("app")]})
	count(policy.patch) == 0 with input as t.review_op("Pod", pod, "UPDATE", "") with data.policies.default_resource_requests.requests as defaults
	count(policy.patch) == 0 with input as t.review_op("Pod", pod, "UPDATE", "ephemeralcontainers") with data.policies.default_resource_requests.requests as defaults
	count(policy.patch) == 0 with input as t.review_op("Pod", pod, "CREATE", "binding") with data.policies.default_resource_requests.requests as defaults
	count(policy.patch) == 1 with input as t.review_op("Pod", pod, "CREATE", "") with data.policies.default_resource_requests.requests as defaults
}

test_configured_defaults if {
	review := t.pod_review("Deployment", {"containers": [bare("app")]})
	got := policy.patch with input as review with data.policies.default_resource_requests.requests as {"cpu": "250m", "memory": "256Mi", "ephemeral-storage": "1Gi"}
	got == {{"op": "add", "path": "/spec/template/spec/containers/0/resources", "value": {"requests": {"cpu": "250m", "memory": "256Mi", "ephemeral-storage": "1Gi"}}}}
	count(policy.patch) == 0 with input as review with data.policies.default_resource_requests.requests as {}
	count(policy.patch) == 0 with input as review with data.policies.default_resource_requests.requests as null
}

test_other_kinds_are_ignored if {
	count(policy.patch) == 0 with input as t.review("Namespace", {"metadata": {"name": "team-a"}}) with data.policies.default_resource_requests.requests as defaults
	count(policy.patch) == 0 with input as t.review("PodTemplate", {"metadata": {"name": "x"}, "template": {"spec": {"containers": [bare("app")]}}}) with data.policies.default_resource_requests.requests as defaults
}

test_defines_no_deny if {
	not policy.deny
}
