package policies.default_seccomp_profile_test

import data.lib.testing as t
import data.policies.default_seccomp_profile as policy

without_security_context := {"containers": [t.container("app")]}

runtime_default := {"type": "RuntimeDefault"}

test_patch_for_every_kind if {
	every kind in t.pod_spec_kinds {
		prefix := t.pod_spec_paths[kind]
		no_context := policy.patch with input as t.pod_review(kind, without_security_context)
		t.eq([kind, "no securityContext"], no_context, {{
			"op": "add",
			"path": concat("", [prefix, "/securityContext"]),
			"value": {"seccompProfile": runtime_default},
		}})
		context := object.union(without_security_context, {"securityContext": {"runAsNonRoot": true}})
		no_profile := policy.patch with input as t.pod_review(kind, context)
		t.eq([kind, "securityContext without seccompProfile"], no_profile, {{
			"op": "add",
			"path": concat("", [prefix, "/securityContext/seccompProfile"]),
			"value": runtime_default,
		}})
	}
}

test_literal_paths if {
	policy.patch == {{"op": "add", "path": "/spec/securityContext", "value": {"seccompProfile": {"type": "RuntimeDefault"}}}} with input as t.pod_review("Pod", without_security_context)
	policy.patch == {{"op": "add", "path": "/spec/template/spec/securityContext/seccompProfile", "value": {"type": "RuntimeDefault"}}} with input as t.pod_review("Deployment", object.union(without_security_context, {"securityContext": {}}))
	policy.patch == {{"op": "add", "path": "/spec/jobTemplate/spec/template/spec/securityContext", "value": {"seccompProfile": {"type": "RuntimeDefault"}}}} with input as t.pod_review("CronJob", without_security_context)
}

# A null securityContext or seccompProfile counts as missing; JSONPatch add replaces it.
test_null_counts_as_missing if {
	policy.patch == {{"op": "add", "path": "/spec/securityContext", "value": {"seccompProfile": runtime_default}}} with input as t.pod_review("Pod", object.union(without_security_context, {"securityContext": null}))
	policy.patch == {{"op": "add", "path": "/spec/securityContext/seccompProfile", "value": runtime_default}} with input as t.pod_review("Pod", object.union(without_security_context, {"securityContext": {"seccompProfile": null}}))
}

# Idempotency: a pod spec that has a profile, whichever, gets no patch.
test_existing_profile_is_kept if {
	profiles := [
		runtime_default,
		{"type": "Localhost", "localhostProfile": "profiles/audit.json"},
		{"type": "Unconfined"},
	]
	every kind in t.kind_families {
		every profile in profiles {
			spec := object.union(without_security_context, {"securityContext": {"runAsNonRoot": true, "seccompProfile": profile}})
			got := policy.patch with input as t.pod_review(kind, spec)
			t.eq([kind, profile], got, set())
		}
	}
}

# Idempotency: the pod spec as the patch leaves it gets no second patch.
test_patched_spec_gets_no_second_patch if {
	cases := [
		{
			"spec": without_security_context,
			"op": {"path": "securityContext", "value": {"seccompProfile": runtime_default}},
			"patched": object.union(without_security_context, {"securityContext": {"seccompProfile": runtime_default}}),
		},
		{
			"spec": object.union(without_security_context, {"securityContext": {"runAsUser": 1000}}),
			"op": {"path": "securityContext/seccompProfile", "value": runtime_default},
			"patched": object.union(without_security_context, {"securityContext": {"runAsUser": 1000, "seccompProfile": runtime_default}}),
		},
	]
	every kind in t.kind_families {
		every c in cases {
			first := policy.patch with input as t.pod_review(kind, c.spec)
			want := {"op": "add", "path": concat("/", [t.pod_spec_paths[kind], c.op.path]), "value": c.op.value}
			t.eq([kind, c.op.path, "first round"], first, {want})
			again := policy.patch with input as t.pod_review(kind, c.patched)
			t.eq([kind, c.op.path, "second round"], again, set())
		}
	}
}

test_only_on_create_of_the_main_resource if {
	object_ := t.object_of("Pod", without_security_context)
	count(policy.patch) == 0 with input as t.review_op("Pod", object_, "UPDATE", "")
	count(policy.patch) == 0 with input as t.review_op("Pod", object_, "UPDATE", "ephemeralcontainers")
	count(policy.patch) == 0 with input as t.review_op("Pod", object_, "CREATE", "binding")
	count(policy.patch) == 1 with input as t.review_op("Pod", object_, "CREATE", "")
}

test_windows_pods_are_left_alone if {
	spec := object.union(without_security_context, {"os": {"name": "windows"}})
	count(policy.patch) == 0 with input as t.pod_review("Deployment", spec)
	linux := object.union(without_security_context, {"os": {"name": "linux"}})
	count(policy.patch) == 1 with input as t.pod_review("Deployment", linux)
}

test_other_kinds_are_ignored if {
	count(policy.patch) == 0 with input as t.review("Namespace", {"metadata": {"name": "team-a"}})
	count(policy.patch) == 0 with input as t.review("PodTemplate", {"metadata": {"name": "x"}, "template": {"spec": without_security_context}})
}

test_defines_no_deny if {
	not policy.deny
}
