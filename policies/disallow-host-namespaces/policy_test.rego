package policies.disallow_host_namespaces_test

import data.lib.testing as t
import data.policies.disallow_host_namespaces as policy

test_each_host_namespace_is_denied_in_every_kind if {
	cases := [
		{"set": {"hostNetwork": true}, "want": {"pod shares the host network namespace (%s.hostNetwork)"}},
		{"set": {"hostPID": true}, "want": {"pod shares the host PID namespace (%s.hostPID)"}},
		{"set": {"hostIPC": true}, "want": {"pod shares the host IPC namespace (%s.hostIPC)"}},
		{
			"set": {"hostNetwork": true, "hostPID": true, "hostIPC": true},
			"want": {
				"pod shares the host network namespace (%s.hostNetwork)",
				"pod shares the host PID namespace (%s.hostPID)",
				"pod shares the host IPC namespace (%s.hostIPC)",
			},
		},
	]
	every kind in t.pod_spec_kinds {
		every c in cases {
			got := policy.deny with input as t.pod_review(kind, object.union(t.pod_spec, c.set))
			want := {sprintf(m, [t.pod_spec_fields[kind]]) | some m in c.want}
			t.eq([kind, c.set], got, want)
		}
	}
}

test_messages_name_the_field_path if {
	policy.deny == {"pod shares the host network namespace (spec.hostNetwork)"} with input as t.pod_review("Pod", object.union(t.pod_spec, {"hostNetwork": true}))
	policy.deny == {"pod shares the host PID namespace (spec.template.spec.hostPID)"} with input as t.pod_review("Deployment", object.union(t.pod_spec, {"hostPID": true}))
	policy.deny == {"pod shares the host IPC namespace (spec.jobTemplate.spec.template.spec.hostIPC)"} with input as t.pod_review("CronJob", object.union(t.pod_spec, {"hostIPC": true}))
}

test_own_namespaces_are_allowed if {
	cases := [
		{"name": "unset", "set": {}},
		{"name": "all false", "set": {"hostNetwork": false, "hostPID": false, "hostIPC": false}},
		{"name": "null", "set": {"hostNetwork": null}},
		{"name": "hostUsers is not a host namespace of this policy", "set": {"hostUsers": true}},
		{"name": "shareProcessNamespace shares within the pod", "set": {"shareProcessNamespace": true}},
		{"name": "hostPort is not hostNetwork", "set": {"containers": [object.union(t.container("app"), {"ports": [{"containerPort": 80, "hostPort": 80}]})]}},
	]
	every kind in t.kind_families {
		every c in cases {
			got := policy.deny with input as t.pod_review(kind, object.union(t.pod_spec, c.set))
			t.eq([kind, c.name], got, set())
		}
	}
}

test_kubectl_debug_on_a_host_network_pod_is_denied if {
	spec := object.union(t.spec_with("ephemeralContainers", t.ephemeral_container("debugger")), {"hostNetwork": true})
	policy.deny == {"pod shares the host network namespace (spec.hostNetwork)"} with input as t.debug_review(spec)
}

test_other_kinds_are_ignored if {
	count(policy.deny) == 0 with input as t.review("Service", {"metadata": {"name": "x"}, "spec": {"hostNetwork": true}})
	count(policy.deny) == 0 with input as t.review("PodTemplate", {"metadata": {"name": "x"}, "template": {"spec": {"hostNetwork": true}}})
}
