package policies.disallow_latest_tag_test

import data.lib.testing as t
import data.policies.disallow_latest_tag as policy

digest := "sha256:0000000000000000000000000000000000000000000000000000000000000000"

# "latest": denied for the latest tag; "untagged": denied for no tag and no digest.
image_cases := [
	{"image": "nginx:latest", "want": "latest"},
	{"image": "docker.io/library/nginx:latest", "want": "latest"},
	{"image": "registry.k8s.io/pause:latest", "want": "latest"},
	{"image": "localhost:5000/app:latest", "want": "latest"},
	{"image": "nginx", "want": "untagged"},
	{"image": "ghcr.io/org/app", "want": "untagged"},
	{"image": "localhost:5000/app", "want": "untagged"},
	{"image": "registry.k8s.io:5000/pause", "want": "untagged"},
	{"image": "localhost:5000/app:1.2", "want": null},
	{"image": "nginx:1.27", "want": null},
	{"image": "registry.k8s.io/pause:3.10", "want": null},
	{"image": "quay.io/org/app:v1.2.3-alpine", "want": null},
	{"image": "ghcr.io/org/latest:1.0", "want": null},
	{"image": "ghcr.io/org/app:latest-1.0", "want": null},
	{"image": "ghcr.io/org/app:Latest", "want": null},
	{"image": concat("@", ["nginx", digest]), "want": null},
	{"image": concat("@", ["nginx:latest", digest]), "want": null},
	{"image": concat("@", ["localhost:5000/app", digest]), "want": null},
]

want_message(type, image, "latest") := sprintf("%s \"x\" image \"%s\" uses the \"latest\" tag; pin a version or digest", [type, image])

want_message(type, image, "untagged") := sprintf("%s \"x\" image \"%s\" has no tag or digest; pin a version or digest", [type, image])

test_image_references_in_every_container_type if {
	every kind in t.kind_families {
		every ct in t.container_types {
			every c in image_cases {
				spec := t.spec_with(ct.field, object.union(t.container("x"), {"image": c.image}))
				got := policy.deny with input as t.pod_review(kind, spec)
				want := {want_message(ct.type, c.image, c.want) | c.want != null}
				t.eq([kind, ct.field, c.image], got, want)
			}
		}
	}
}

test_every_pod_spec_kind_is_checked if {
	every kind in t.pod_spec_kinds {
		spec := t.spec_with("containers", object.union(t.container("x"), {"image": "nginx:latest"}))
		got := policy.deny with input as t.pod_review(kind, spec)
		t.eq(kind, got, {`container "x" image "nginx:latest" uses the "latest" tag; pin a version or digest`})
	}
}

test_literal_messages if {
	spec := {
		"containers": [{"name": "app", "image": "nginx"}],
		"initContainers": [{"name": "setup", "image": "localhost:5000/tools:latest"}],
	}
	policy.deny == {
		`container "app" image "nginx" has no tag or digest; pin a version or digest`,
		`init container "setup" image "localhost:5000/tools:latest" uses the "latest" tag; pin a version or digest`,
	} with input as t.pod_review("Pod", spec)
}

test_kubectl_debug_with_an_untagged_image_is_denied if {
	debugger := object.union(t.ephemeral_container("debugger"), {"image": "busybox"})
	got := policy.deny with input as t.debug_review(t.spec_with("ephemeralContainers", debugger))
	got == {`ephemeral container "debugger" image "busybox" has no tag or digest; pin a version or digest`}
}

test_containers_without_an_image_are_left_to_the_api_server if {
	spec := {"containers": [{"name": "x"}, {"name": "y", "image": ""}, {"name": "z", "image": null}]}
	count(policy.deny) == 0 with input as t.pod_review("Deployment", spec)
}
