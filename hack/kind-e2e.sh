#!/usr/bin/env bash
# End-to-end against a real cluster: a kind cluster whose API server writes an audit log,
# bouncer's image built and loaded into it, manifests/base applied, the starter policies
# pushed as bundle "baseline" and the e2e test policies as "test-basic", then the e2e suite
# (arguments are passed to vitest).
#
# The suite takes its target from the environment: with BOUNCER_E2E_KUBECONFIG (and
# BOUNCER_E2E_AUDIT_LOG) it runs against that cluster; without them, the default, it starts
# its own local etcd + kube-apiserver (test/e2e/global-setup.ts). Suites that need a bouncer
# process of their own or restart the API server skip themselves against a cluster.
#
# The node image: kind's own default (kindest/node) when it is present or can be pulled, else
# one built here without any registry by hack/kind-node-image.sh (Debian from apt, Kubernetes,
# etcd, CoreDNS from the Go module proxy; a one-node cluster, see docs/kind.md).
# The kubelet is told not to refuse cgroup v1 hosts (failCgroupV1: false, a KubeletConfiguration
# patch), which Kubernetes >= 1.35 otherwise does; on cgroup v2 it changes nothing.
#
# Needs docker, node and npm; kind and kubectl are used from PATH, else built at their pinned
# versions (hack/ensure-tools.sh). Without an engine answering `docker info`, one is started by
# hack/docker-engine.sh (which needs CI=true or BOUNCER_INSTALL_DOCKER=1, as root). Environment:
#   CLUSTER_NAME      kind cluster name (default bouncer-e2e)
#   KIND_NODE_IMAGE   node image: a NAME:TAG, `build` (always the local one) or `auto` (default:
#                     kind's default image if present or pullable, else the local one)
#   IMAGE             NAME:TAG to build and load (default bouncer:e2e)
#   KEEP_CLUSTER=1    keep the cluster (and its kubeconfig and audit log) afterwards
#
# Usage: hack/kind-e2e.sh [vitest arguments, e.g. test/e2e/enforcement.test.ts]
set -euo pipefail
cd "$(dirname "$0")/.."

cluster=${CLUSTER_NAME:-bouncer-e2e}
image=${IMAGE:-bouncer:e2e}
say() { printf '[kind-e2e] %s\n' "$*" >&2; }

started=$SECONDS
missing=()
for tool in docker node npm; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if [ "${#missing[@]}" -gt 0 ]; then
  say "missing tools: ${missing[*]}"
  exit 1
fi
if ! docker info >/dev/null 2>&1; then
  engine=$(bash hack/docker-engine.sh start) || { say "no Docker engine (see the line above)"; exit 1; }
  export DOCKER_HOST=${engine#DOCKER_HOST=}
fi
kind_bin=$(command -v kind || bash hack/ensure-tools.sh kind-cli | sed -n 's/^KIND=//p')
kubectl_bin=$(command -v kubectl || bash hack/ensure-tools.sh control-plane | sed -n 's/^KUBECTL=//p')
# The cleanup below deletes the cluster; never one this script did not create.
if "$kind_bin" get clusters 2>/dev/null | grep -qx "$cluster"; then
  say "a kind cluster named $cluster already exists; delete it or set CLUSTER_NAME"
  exit 1
fi

work=$(mktemp -d -t bouncer-kind-XXXXXX)
kubeconfig="$work/kubeconfig"
audit_dir="$work/audit"
mkdir -p "$audit_dir/policy" "$audit_dir/log"

# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
  local status=$?
  if [ "${KEEP_CLUSTER:-}" = 1 ]; then
    say "keeping cluster $cluster: export KUBECONFIG=$kubeconfig (audit log: $audit_dir/log/audit.log)"
  else
    "$kind_bin" delete cluster --name "$cluster" >&2 || true
    rm -rf "$work"
  fi
  exit "$status"
}
trap cleanup EXIT

# Same policy as the local control plane (hack/lib/control-plane.ts): writes with their
# annotations, no reads, no lease churn.
cat > "$audit_dir/policy/audit-policy.yaml" <<'EOF'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: None
    verbs: [get, list, watch]
  - level: None
    resources: [{ group: coordination.k8s.io, resources: [leases] }]
  - level: Metadata
EOF

# The log directory is a host mount, so the suite reads the audit log directly. kind only
# applies the patch whose apiVersion matches the kubeadm config it generates: v1beta3 takes
# extraArgs as a map, v1beta4 (Kubernetes >= 1.31) as a list of name/value pairs.
cat > "$work/kind.yaml" <<EOF
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
nodes:
  - role: control-plane
    extraMounts:
      - hostPath: $audit_dir/policy
        containerPath: /etc/kubernetes/audit
        readOnly: true
      - hostPath: $audit_dir/log
        containerPath: /var/log/kubernetes/audit
    kubeadmConfigPatches:
      - |
        apiVersion: kubeadm.k8s.io/v1beta3
        kind: ClusterConfiguration
        apiServer:
          extraArgs:
            audit-policy-file: /etc/kubernetes/audit/audit-policy.yaml
            audit-log-path: /var/log/kubernetes/audit/audit.log
            audit-log-format: json
            audit-log-mode: blocking
          extraVolumes:
            - { name: audit-policy, hostPath: /etc/kubernetes/audit, mountPath: /etc/kubernetes/audit, readOnly: true, pathType: DirectoryOrCreate }
            - { name: audit-log, hostPath: /var/log/kubernetes/audit, mountPath: /var/log/kubernetes/audit, pathType: DirectoryOrCreate }
      - |
        apiVersion: kubelet.config.k8s.io/v1beta1
        kind: KubeletConfiguration
        failCgroupV1: false
      - |
        apiVersion: kubeadm.k8s.io/v1beta4
        kind: ClusterConfiguration
        apiServer:
          extraArgs:
            - { name: audit-policy-file, value: /etc/kubernetes/audit/audit-policy.yaml }
            - { name: audit-log-path, value: /var/log/kubernetes/audit/audit.log }
            - { name: audit-log-format, value: json }
            - { name: audit-log-mode, value: blocking }
          extraVolumes:
            - { name: audit-policy, hostPath: /etc/kubernetes/audit, mountPath: /etc/kubernetes/audit, readOnly: true, pathType: DirectoryOrCreate }
            - { name: audit-log, hostPath: /var/log/kubernetes/audit, mountPath: /var/log/kubernetes/audit, pathType: DirectoryOrCreate }
EOF

# The node image (see the header). kind's default image is the one `kind create cluster` uses
# without --image; its name is read from the kind binary in use.
node_image=${KIND_NODE_IMAGE:-auto}
if [ "$node_image" = auto ]; then
  default_image=$(grep -aoE 'kindest/node:v[0-9.]+@sha256:[0-9a-f]{64}' "$kind_bin" | head -n 1 || true)
  if [ -n "$default_image" ] && { docker image inspect "$default_image" >/dev/null 2>&1 ||
       timeout 300 docker pull -q "$default_image" >/dev/null 2>&1; }; then
    node_image=$default_image
  else
    say "kind's default node image ${default_image:-(unknown)} cannot be pulled: building one here (hack/kind-node-image.sh)"
    node_image=build
  fi
fi
if [ "$node_image" = build ]; then
  node_image=$(bash hack/kind-node-image.sh | sed -n 's/^KIND_NODE_IMAGE=//p')
  [ -n "$node_image" ] || { say "hack/kind-node-image.sh made no image"; exit 1; }
fi
say "node image $node_image ($((SECONDS - started)) s so far)"

say "creating kind cluster $cluster"
"$kind_bin" create cluster --name "$cluster" --config "$work/kind.yaml" --kubeconfig "$kubeconfig" \
  --image "$node_image" --wait 300s >&2
say "cluster ready ($((SECONDS - started)) s so far)"
export KUBECONFIG="$kubeconfig"
# The API server writes the log as root; the suite runs as whoever calls this script.
docker exec "$cluster-control-plane" chmod -R a+rX /var/log/kubernetes/audit

say "building $image"
# The same build as hack/test-image.sh: the Dockerfile on the registry's base images, or on local
# stand-ins of them where none can be pulled (BOUNCER_BASE_IMAGES, see hack/images.sh).
bash hack/images.sh bouncer "$image" >/dev/null
"$kind_bin" load docker-image "$image" --name "$cluster" >&2

say "building bouncer and the bundles (baseline: policies/, test-basic: the e2e test policies)"
bash hack/ensure-deps.sh
npm run -s build >&2
OPA_BIN=$(bash hack/ensure-tools.sh opa | sed -n 's/^OPA=//p')
export OPA_BIN
node bin/bouncer.js build policies -o "$work/baseline.tar.gz" >&2
node bin/bouncer.js build test/fixtures/policy-sets/basic -o "$work/test-basic.tar.gz" >&2

say "applying manifests/base with image $image"
# A copy of the base whose webhook rules also cover the test policies' kinds (ConfigMaps),
# rendered from both policy sets together the same way base/webhooks.yaml is.
mkdir -p "$work/manifests/overlays/kind" "$work/webhook-policies"
cp -R manifests/base "$work/manifests/base"
cp -R policies/. test/fixtures/policy-sets/basic/. "$work/webhook-policies/"
node bin/bouncer.js manifests --policies "$work/webhook-policies" > "$work/manifests/base/webhooks.yaml"
cat > "$work/manifests/overlays/kind/kustomization.yaml" <<EOF
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../../base
images:
  - name: ghcr.io/bouncer-dev/bouncer
    newName: ${image%:*}
    newTag: ${image##*:}
EOF
"$kubectl_bin" apply -k "$work/manifests/overlays/kind" >&2
node bin/bouncer.js push "$work/baseline.tar.gz" --name baseline -n bouncer-system >&2
node bin/bouncer.js push "$work/test-basic.tar.gz" --name test-basic -n bouncer-system >&2

say "waiting for the deployment"
if ! "$kubectl_bin" -n bouncer-system rollout status deployment/bouncer --timeout=180s >&2; then
  "$kubectl_bin" -n bouncer-system get pods -o wide >&2 || true
  "$kubectl_bin" -n bouncer-system logs deployment/bouncer --all-containers --tail=50 >&2 || true
  exit 1
fi

say "running the e2e suite against $cluster"
# BOUNCER_E2E_KIND=1 enables the cluster-only checks (test/e2e/kind-cluster.test.ts), which
# push BOUNCER_E2E_KIND_BUNDLE under a new name and run pods of BOUNCER_E2E_IMAGE.
status=0
BOUNCER_E2E_KUBECONFIG="$kubeconfig" BOUNCER_E2E_AUDIT_LOG="$audit_dir/log/audit.log" \
  BOUNCER_E2E_KUBECTL="$kubectl_bin" BOUNCER_E2E_KIND=1 BOUNCER_E2E_IMAGE="$image" \
  BOUNCER_E2E_KIND_BUNDLE="$work/baseline.tar.gz" npx vitest run --project e2e "$@" || status=$?
say "done in $((SECONDS - started)) s (exit $status)"
exit "$status"
