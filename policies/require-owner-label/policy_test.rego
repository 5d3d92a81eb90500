package policies.require_owner_label_test

import data.lib.testing as t
import data.policies.require_owner_label as policy

namespace(labels) := {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a", "labels": labels}}

workload(kind, labels) := t.with_metadata(t.object_of(kind, t.pod_spec), {"name": "web", "namespace": "team-a", "labels": labels})

label_cases := [
	{"name": "owner set", "labels": {"owner": "team-a", "app": "web"}, "denied": false},
	{"name": "no labels", "labels": {}, "denied": true},
	{"name": "labels null", "labels": null, "denied": true},
	{"name": "other labels only", "labels": {"app": "web", "team": "team-a"}, "denied": true},
	{"name": "owner empty", "labels": {"owner": ""}, "denied": true},
	{"name": "owner null", "labels": {"owner": null}, "denied": true},
	{"name": "label key is case-sensitive", "labels": {"Owner": "team-a"}, "denied": true},
	{"name": "prefixed key is another label", "labels": {"example.com/owner": "team-a"}, "denied": true},
]

test_workload_kinds if {
	every kind in t.workload_kinds {
		every c in label_cases {
			got := policy.deny with input as t.review(kind, workload(kind, c.labels))
			want := {sprintf("%s \"web\" has no \"owner\" label (metadata.labels.owner)", [kind]) | c.denied}
			t.eq([kind, c.name], got, want)
		}
	}
}

test_namespaces if {
	every c in label_cases {
		got := policy.deny with input as t.review("Namespace", namespace(c.labels))
		want := {`Namespace "team-a" has no "owner" label (metadata.labels.owner)` | c.denied}
		t.eq(c.name, got, want)
	}
}

test_updates_are_checked if {
	review := t.review_op("Deployment", workload("Deployment", {}), "UPDATE", "")
	policy.deny == {`Deployment "web" has no "owner" label (metadata.labels.owner)`} with input as review
}

test_no_metadata_labels_key if {
	obj := {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-b"}}
	policy.deny == {`Namespace "team-b" has no "owner" label (metadata.labels.owner)`} with input as t.review("Namespace", obj)
}

# generateName objects have no name yet; the message falls back to generateName,
# and to the bare kind when there is nothing.
test_message_names_without_a_name if {
	generated := t.with_metadata(t.object_of("Job", t.pod_spec), {"generateName": "migrate-", "namespace": "team-a"})
	review := t.review("Job", generated)
	review.request.name == ""
	policy.deny == {`Job "migrate-" has no "owner" label (metadata.labels.owner)`} with input as review
	nameless := t.review("Job", t.with_metadata(generated, {"namespace": "team-a"}))
	policy.deny == {`Job has no "owner" label (metadata.labels.owner)`} with input as nameless
}

test_bare_pods_and_other_kinds_are_exempt if {
	cases := [
		{"name": "Pod", "input": t.review("Pod", t.with_metadata(t.object_of("Pod", t.pod_spec), {"name": "web", "namespace": "team-a"}))},
		{"name": "Service", "input": t.review("Service", {"metadata": {"name": "web"}})},
		{"name": "ConfigMap", "input": t.review("ConfigMap", {"metadata": {"name": "web"}})},
		{"name": "PodTemplate", "input": t.review("PodTemplate", {"metadata": {"name": "web"}})},
		{"name": "kubectl debug", "input": t.debug_review(t.spec_with("ephemeralContainers", t.ephemeral_container("debugger")))},
	]
	every c in cases {
		got := policy.deny with input as c.input
		t.eq(c.name, got, set())
	}
}
