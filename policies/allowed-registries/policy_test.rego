package policies.allowed_registries_test

import data.lib.testing as t
import data.policies.allowed_registries as policy

# The shipped default list (data.json), given explicitly so the tests do not depend
# on where data.json is mounted.
registries := ["registry.k8s.io", "ghcr.io", "quay.io", "docker.io"]

with_image(c, image) := object.union(c, {"image": image})

# A review of a pod spec holding a container x with image in field.
# (Tests apply `with data...` in test rules only: opa build -t wasm rejects a
# function that uses `with` on data, and the build may include test files.)
image_review(kind, field, image) := t.pod_review(kind, t.spec_with(field, with_image(t.container("x"), image)))

image_cases := [
	# allowed: explicit hosts from the list
	{"image": "registry.k8s.io/pause:3.10", "registry": null},
	{"image": "ghcr.io/org/app:1.0", "registry": null},
	{"image": "quay.io/prometheus/node-exporter:v1.8.2", "registry": null},
	{"image": "docker.io/library/nginx:1.27", "registry": null},
	# allowed: references that normalize to docker.io
	{"image": "nginx:1.27", "registry": null},
	{"image": "nginx", "registry": null},
	{"image": "bitnami/redis:7.2", "registry": null},
	{"image": "index.docker.io/library/nginx:1.27", "registry": null},
	{"image": "myregistry/app:1", "registry": null},
	{"image": "REGISTRY.K8S.IO/pause:3.10", "registry": null},
	{"image": "ghcr.io/org/app@sha256:0000000000000000000000000000000000000000000000000000000000000000", "registry": null},
	# denied: hosts not in the list, compared exactly
	{"image": "evil.example/pause:3.10", "registry": "evil.example"},
	{"image": "registry.k8s.io.evil.example/pause:3.10", "registry": "registry.k8s.io.evil.example"},
	{"image": "evil-registry.k8s.io/pause:3.10", "registry": "evil-registry.k8s.io"},
	{"image": "registry.k8s.io:5000/pause:3.10", "registry": "registry.k8s.io:5000"},
	{"image": "ghcr.io.attacker.example/org/app:1", "registry": "ghcr.io.attacker.example"},
	{"image": "docker.io.evil.example/nginx:1", "registry": "docker.io.evil.example"},
	{"image": "registry-1.docker.io/library/nginx:1", "registry": "registry-1.docker.io"},
	{"image": "localhost/app:1", "registry": "localhost"},
	{"image": "localhost:5000/app:1", "registry": "localhost:5000"},
	{"image": "10.0.0.1:5000/app:1", "registry": "10.0.0.1:5000"},
	{"image": "gcr.io/distroless/static:nonroot", "registry": "gcr.io"},
	{"image": "public.ecr.aws/nginx/nginx:1.27", "registry": "public.ecr.aws"},
]

test_image_references_in_every_container_type if {
	every kind in t.kind_families {
		every ct in t.container_types {
			every c in image_cases {
				denials := policy.deny with input as image_review(kind, ct.field, c.image)
					with data.policies.allowed_registries.registries as registries
				got := {d.msg | some d in denials}
				want := {sprintf("%s \"x\" pulls from registry \"%s\", which is not allowed", [ct.type, c.registry]) | c.registry != null}
				t.eq([kind, ct.field, c.image], got, want)
			}
		}
	}
}

test_every_pod_spec_kind_is_checked if {
	every kind in t.pod_spec_kinds {
		denials := policy.deny with input as image_review(kind, "containers", "evil.example/app:1")
			with data.policies.allowed_registries.registries as registries
		got := {d.msg | some d in denials}
		t.eq(kind, got, {`container "x" pulls from registry "evil.example", which is not allowed`})
	}
}

test_denial_details if {
	spec := t.spec_with("initContainers", with_image(t.container("setup"), "Evil.Example:443/tools/setup:2"))
	got := policy.deny with input as t.pod_review("Deployment", spec)
		with data.policies.allowed_registries.registries as registries
	got == {{
		"msg": `init container "setup" pulls from registry "evil.example:443", which is not allowed`,
		"details": {
			"image": "Evil.Example:443/tools/setup:2",
			"registry": "evil.example:443",
			"allowed": ["docker.io", "ghcr.io", "quay.io", "registry.k8s.io"],
		},
	}}
}

test_configured_registries if {
	cases := [
		{"name": "a private registry with a port", "registries": ["registry.internal:5000"], "image": "registry.internal:5000/app:1", "denied": false},
		{"name": "the port is part of the host", "registries": ["registry.internal"], "image": "registry.internal:5000/app:1", "denied": true},
		{"name": "listed in mixed case", "registries": ["Registry.Internal"], "image": "registry.internal/app:1", "denied": false},
		{"name": "index.docker.io listed means docker.io", "registries": ["index.docker.io"], "image": "nginx:1.27", "denied": false},
		{"name": "docker.io not listed denies library images", "registries": ["ghcr.io"], "image": "nginx:1.27", "denied": true},
		{"name": "localhost listed", "registries": ["localhost"], "image": "localhost/app:1", "denied": false},
		{"name": "empty list denies everything", "registries": [], "image": "registry.k8s.io/pause:3.10", "denied": true},
	]
	every c in cases {
		spec := object.union(t.pod_spec, {"containers": [with_image(t.container("x"), c.image)]})
		got := policy.deny with input as t.pod_review("Pod", spec)
			with data.policies.allowed_registries.registries as c.registries
		t.eq(c.name, count(got) > 0, c.denied)
	}
}

test_unusable_data_denies_everything if {
	got := policy.deny with input as t.pod_review("Pod", t.pod_spec)
		with data.policies.allowed_registries.registries as null
	{d.msg | some d in got} == {`container "app" pulls from registry "registry.k8s.io", which is not allowed`}
}

# The API server requires an image; a template without one can not run until an
# update sets it, which this policy checks.
test_containers_without_an_image_are_left_to_the_api_server if {
	spec := {"containers": [{"name": "x"}, {"name": "y", "image": ""}]}
	count(policy.deny) == 0 with input as t.pod_review("Deployment", spec)
		with data.policies.allowed_registries.registries as ["registry.k8s.io"]
}

test_non_string_image_is_denied if {
	spec := {"containers": [{"name": "x", "image": 42}]}
	got := policy.deny with input as t.pod_review("Pod", spec)
		with data.policies.allowed_registries.registries as registries
	{d.msg | some d in got} == {`container "x" pulls from registry "", which is not allowed`}
}

test_kubectl_debug_with_an_image_from_elsewhere_is_denied if {
	debugger := object.union(t.ephemeral_container("debugger"), {"image": "nicolaka/netshoot:v0.13"})
	allowed := policy.deny with input as t.debug_review(t.spec_with("ephemeralContainers", debugger))
		with data.policies.allowed_registries.registries as registries
	count(allowed) == 0
	denied := policy.deny with input as t.debug_review(t.spec_with("ephemeralContainers", debugger))
		with data.policies.allowed_registries.registries as ["registry.k8s.io"]
	{d.msg | some d in denied} == {`ephemeral container "debugger" pulls from registry "docker.io", which is not allowed`}
}
