package policies.disallow_privileged_test

import data.lib.testing as t
import data.policies.disallow_privileged as policy

privileged(name) := object.union(t.container(name), {"securityContext": {"privileged": true}})

messages := {
	"containers": {`container "x" is privileged (securityContext.privileged)`},
	"initContainers": {`init container "x" is privileged (securityContext.privileged)`},
	"ephemeralContainers": {`ephemeral container "x" is privileged (securityContext.privileged)`},
}

test_privileged_container_of_every_type_is_denied_in_every_kind if {
	every kind in t.pod_spec_kinds {
		every ct in t.container_types {
			got := policy.deny with input as t.pod_review(kind, t.spec_with(ct.field, privileged("x")))
			t.eq([kind, ct.field], got, messages[ct.field])
		}
	}
}

test_unprivileged_containers_are_allowed if {
	cases := [
		{"name": "no securityContext", "container": t.container("x")},
		{"name": "empty securityContext", "container": object.union(t.container("x"), {"securityContext": {}})},
		{"name": "privileged false", "container": object.union(t.container("x"), {"securityContext": {"privileged": false}})},
		{"name": "privileged null", "container": object.union(t.container("x"), {"securityContext": {"privileged": null}})},
		{"name": "string \"true\" is not a boolean", "container": object.union(t.container("x"), {"securityContext": {"privileged": "true"}})},
		{
			"name": "other risky settings are other policies' concern",
			"container": object.union(t.container("x"), {"securityContext": {"allowPrivilegeEscalation": true, "capabilities": {"add": ["SYS_ADMIN"]}}}),
		},
	]
	every kind in t.kind_families {
		every ct in t.container_types {
			every c in cases {
				got := policy.deny with input as t.pod_review(kind, t.spec_with(ct.field, c.container))
				t.eq([kind, ct.field, c.name], got, set())
			}
		}
	}
}

test_every_privileged_container_is_reported if {
	spec := {
		"containers": [privileged("app"), t.container("ok"), privileged("sidecar")],
		"initContainers": [privileged("setup")],
		"ephemeralContainers": [privileged("debugger")],
	}
	got := policy.deny with input as t.pod_review("CronJob", spec)
	got == {
		`container "app" is privileged (securityContext.privileged)`,
		`container "sidecar" is privileged (securityContext.privileged)`,
		`init container "setup" is privileged (securityContext.privileged)`,
		`ephemeral container "debugger" is privileged (securityContext.privileged)`,
	}
}

# kubectl debug --profile=sysadmin: UPDATE of pods/ephemeralcontainers with the whole Pod.
test_kubectl_debug_privileged_ephemeral_container_is_denied if {
	debugger := {"name": "debugger-x7k2p", "image": "docker.io/library/busybox:1.36", "securityContext": {"privileged": true}}
	got := policy.deny with input as t.debug_review(t.spec_with("ephemeralContainers", debugger))
	got == {`ephemeral container "debugger-x7k2p" is privileged (securityContext.privileged)`}
}

test_update_is_checked if {
	review := t.review_op("Deployment", t.object_of("Deployment", t.spec_with("containers", privileged("x"))), "UPDATE", "")
	policy.deny == messages.containers with input as review
}

test_objects_without_pod_spec_are_ignored if {
	# A PodTemplate (template.spec) and a Service with a pod-spec-looking spec.
	cases := [
		t.review("PodTemplate", {"metadata": {"name": "x"}, "template": {"spec": t.spec_with("containers", privileged("x"))}}),
		t.review("Service", {"metadata": {"name": "x"}, "spec": t.spec_with("containers", privileged("x"))}),
	]
	every review in cases {
		count(policy.deny) == 0 with input as review
	}
}
