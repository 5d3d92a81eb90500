package policies.disallow_host_path_test

import data.lib.testing as t
import data.policies.disallow_host_path as policy

host_path(name, path) := {"name": name, "hostPath": {"path": path, "type": "Directory"}}

test_host_path_volume_is_denied_in_every_kind if {
	spec := object.union(t.pod_spec, {"volumes": [host_path("docker", "/var/run/docker.sock")]})
	every kind in t.pod_spec_kinds {
		got := policy.deny with input as t.pod_review(kind, spec)
		t.eq(kind, got, {`volume "docker" mounts host path "/var/run/docker.sock" (hostPath)`})
	}
}

test_volumes if {
	cases := [
		{"name": "no volumes", "volumes": [], "want": set()},
		{"name": "volumes null", "volumes": null, "want": set()},
		{
			"name": "safe volume types",
			"volumes": [
				{"name": "scratch", "emptyDir": {}},
				{"name": "config", "configMap": {"name": "web"}},
				{"name": "token", "projected": {"sources": [{"serviceAccountToken": {"path": "token"}}]}},
				{"name": "data", "persistentVolumeClaim": {"claimName": "data"}},
			],
			"want": set(),
		},
		{
			"name": "one host path among others",
			"volumes": [{"name": "scratch", "emptyDir": {}}, host_path("root", "/")],
			"want": {`volume "root" mounts host path "/" (hostPath)`},
		},
		{
			"name": "every host path is reported",
			"volumes": [host_path("logs", "/var/log"), host_path("proc", "/proc")],
			"want": {
				`volume "logs" mounts host path "/var/log" (hostPath)`,
				`volume "proc" mounts host path "/proc" (hostPath)`,
			},
		},
		{
			"name": "hostPath without a type or path",
			"volumes": [{"name": "odd", "hostPath": {}}],
			"want": {`volume "odd" mounts host path "" (hostPath)`},
		},
		{
			"name": "a malformed hostPath is still denied",
			"volumes": [{"name": "odd", "hostPath": "/etc"}],
			"want": {`volume "odd" mounts host path "" (hostPath)`},
		},
		{"name": "hostPath null is no hostPath", "volumes": [{"name": "scratch", "hostPath": null, "emptyDir": {}}], "want": set()},
	]
	every kind in t.kind_families {
		every c in cases {
			got := policy.deny with input as t.pod_review(kind, object.union(t.pod_spec, {"volumes": c.volumes}))
			t.eq([kind, c.name], got, c.want)
		}
	}
}

test_kubectl_debug_on_a_host_path_pod_is_denied if {
	spec := object.union(t.spec_with("ephemeralContainers", t.ephemeral_container("debugger")), {"volumes": [host_path("etc", "/etc")]})
	policy.deny == {`volume "etc" mounts host path "/etc" (hostPath)`} with input as t.debug_review(spec)
}

test_persistent_volume_host_path_is_out_of_scope if {
	pv := {"metadata": {"name": "pv"}, "spec": {"hostPath": {"path": "/data"}}}
	count(policy.deny) == 0 with input as t.review("PodTemplate", pv)
}
