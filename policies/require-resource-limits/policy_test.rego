package policies.require_resource_limits_test

import data.lib.testing as t
import data.policies.require_resource_limits as policy

with_resources(name, resources) := object.union(object.remove(t.container(name), ["resources"]), {"resources": resources})

resource_cases := [
	{"name": "limits and requests", "resources": {"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "1", "memory": "1Gi"}}, "missing": set()},
	{"name": "limits only", "resources": {"limits": {"cpu": "500m", "memory": "256Mi"}}, "missing": set()},
	{"name": "extra limits", "resources": {"limits": {"cpu": 2, "memory": "256Mi", "ephemeral-storage": "1Gi"}}, "missing": set()},
	{"name": "no cpu limit", "resources": {"limits": {"memory": "256Mi"}}, "missing": {"cpu"}},
	{"name": "no memory limit", "resources": {"limits": {"cpu": "500m"}}, "missing": {"memory"}},
	{"name": "requests only", "resources": {"requests": {"cpu": "500m", "memory": "256Mi"}}, "missing": {"cpu", "memory"}},
	{"name": "empty limits", "resources": {"limits": {}}, "missing": {"cpu", "memory"}},
	{"name": "null limits", "resources": {"limits": null}, "missing": {"cpu", "memory"}},
	{"name": "null cpu limit", "resources": {"limits": {"cpu": null, "memory": "256Mi"}}, "missing": {"cpu"}},
	{"name": "empty resources", "resources": {}, "missing": {"cpu", "memory"}},
	{"name": "null resources", "resources": null, "missing": {"cpu", "memory"}},
]

label := {"cpu": "CPU", "memory": "memory"}

test_containers_and_init_containers_in_every_kind_family if {
	every kind in t.kind_families {
		every ct in [x | some x in t.container_types; x.field != "ephemeralContainers"] {
			every c in resource_cases {
				got := policy.deny with input as t.pod_review(kind, t.spec_with(ct.field, with_resources("x", c.resources)))
				want := {sprintf("%s \"x\" has no %s limit (resources.limits.%s)", [ct.type, label[r], r]) | some r in c.missing}
				t.eq([kind, ct.field, c.name], got, want)
			}
		}
	}
}

test_container_without_resources_key if {
	every kind in t.pod_spec_kinds {
		got := policy.deny with input as t.pod_review(kind, {"containers": [{"name": "app", "image": "registry.k8s.io/pause:3.10"}]})
		t.eq(kind, got, {
			`container "app" has no CPU limit (resources.limits.cpu)`,
			`container "app" has no memory limit (resources.limits.memory)`,
		})
	}
}

test_ephemeral_containers_are_exempt if {
	every kind in t.kind_families {
		got := policy.deny with input as t.pod_review(kind, t.spec_with("ephemeralContainers", t.ephemeral_container("debugger")))
		t.eq(kind, got, set())
	}
	count(policy.deny) == 0 with input as t.debug_review(t.spec_with("ephemeralContainers", t.ephemeral_container("debugger")))
}

test_every_container_is_reported if {
	spec := {
		"containers": [t.container("ok"), with_resources("app", {"limits": {"cpu": "1"}})],
		"initContainers": [with_resources("setup", {})],
	}
	policy.deny == {
		`container "app" has no memory limit (resources.limits.memory)`,
		`init container "setup" has no CPU limit (resources.limits.cpu)`,
		`init container "setup" has no memory limit (resources.limits.memory)`,
	} with input as t.pod_review("Job", spec)
}

test_other_kinds_are_ignored if {
	count(policy.deny) == 0 with input as t.review("Namespace", {"metadata": {"name": "team-a"}})
}
