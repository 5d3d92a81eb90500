#!/usr/bin/env bash
# Makes the pinned toolchain available and prints where it is, one NAME=PATH per line:
#   OPA, ETCD, KUBE_APISERVER, KUBECTL, GATOR, HELM, with `gatekeeper` GATEKEEPER, and with `test-tools` or `all` SHELLCHECK and PROMTOOL
#   (when they can be had: see ensure_test_tools); with `kind` the kind node image's parts (ensure_kind)
#
# Versions are pinned by the wrapper modules under hack/tools/ (their go.mod is the single
# source of truth). Binaries are built with the Go toolchain from the Go module proxy
# into a cache outside the work tree, keyed by version, and reused on every later run.
# What the user already provides wins:
#   OPA_BIN                 an OPA CLI of the pinned version (else `opa` on PATH if it is the pinned version)
#   KUBEBUILDER_ASSETS      a directory holding kube-apiserver, etcd and kubectl (the envtest convention)
#   HELM_BIN                a Helm of the pinned version (else `helm` on PATH if it is the pinned version)
#   BOUNCER_CACHE           cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/bouncer)
#
# Usage: hack/ensure-tools.sh [opa|control-plane|kubectl|gator|gatekeeper|helm|test-tools|kind|kind-cli|all]   (default all; `npm start` asks for
# opa and control-plane only, `npm test` for all)
# Progress goes to stderr, and only when something has to be built.
set -euo pipefail
what=${1:-all}
hack="$(cd "$(dirname "$0")" && pwd)"
cache="${BOUNCER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bouncer}"

say() { printf '[ensure-tools] %s\n' "$*" >&2; }
pinned() { sed -n "s#^\s*\(require \)\?$1 \(v[^ ]*\).*#\2#p" "$2" | head -n 1; }

need_go() {
  command -v go >/dev/null || { say "Go is required to build $1 (https://go.dev/doc/install)"; exit 1; }
}

# build NAME VERSION MODULE_DIR PACKAGE OUTPUT [LDFLAGS]
build() {
  local name=$1 version=$2 dir=$3 pkg=$4 out=$5 ldflags=${6:-}
  need_go "$name"
  mkdir -p "$(dirname "$out")"
  local start=$SECONDS tmp="$out.tmp.$$"
  (cd "$dir" && GOFLAGS=-mod=readonly CGO_ENABLED=0 go build -trimpath -ldflags "-s -w $ldflags" -o "$tmp" "$pkg") >&2
  mv -f "$tmp" "$out"
  say "built $name $version in $((SECONDS - start))s -> $out"
}

ensure_opa() {
  local version; version=$(pinned github.com/open-policy-agent/opa "$hack/tools/opa/go.mod")
  local candidate=${OPA_BIN:-$(command -v opa || true)}
  if [ -n "$candidate" ] && "$candidate" version 2>/dev/null | grep -qx "Version: ${version#v}"; then
    echo "OPA=$candidate"; return
  fi
  [ -z "${OPA_BIN:-}" ] || say "OPA_BIN=$OPA_BIN is not OPA ${version}; using the pinned build instead"
  local out="$cache/tools/opa-$version/opa"
  if [ ! -x "$out" ]; then
    say "building OPA $version from the Go module proxy (first run only, about 2-4 minutes)"
    build opa "$version" "$hack/tools/opa" github.com/open-policy-agent/opa "$out"
  fi
  echo "OPA=$out"
}

ensure_control_plane() {
  if [ -n "${KUBEBUILDER_ASSETS:-}" ]; then
    local b
    for b in etcd kube-apiserver kubectl; do
      [ -x "$KUBEBUILDER_ASSETS/$b" ] || { say "KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS has no executable $b"; exit 1; }
    done
    printf 'ETCD=%s\nKUBE_APISERVER=%s\nKUBECTL=%s\n' "$KUBEBUILDER_ASSETS/etcd" "$KUBEBUILDER_ASSETS/kube-apiserver" "$KUBEBUILDER_ASSETS/kubectl"
    return
  fi
  local kver ever minor
  kver=$(pinned k8s.io/kubernetes "$hack/tools/kubernetes/go.mod")
  ever=$(pinned go.etcd.io/etcd/server/v3 "$hack/tools/etcd/go.mod")
  minor=${kver#v1.}; minor=${minor%%.*}
  local kdir="$cache/tools/kubernetes-$kver" edir="$cache/tools/etcd-$ever"
  local stamp="-X k8s.io/component-base/version.gitVersion=$kver -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean"
  if [ ! -x "$edir/etcd" ]; then
    say "building etcd $ever from the Go module proxy (first run only, about 2-3 minutes)"
    build etcd "$ever" "$hack/tools/etcd" . "$edir/etcd"
  fi
  if [ ! -x "$kdir/kube-apiserver" ]; then
    say "building kube-apiserver $kver from the Go module proxy (first run only: ~1 GB of modules, 10-25 minutes on 2 cores)"
    build kube-apiserver "$kver" "$hack/tools/kubernetes" ./cmd/kube-apiserver "$kdir/kube-apiserver" "$stamp"
  fi
  if [ ! -x "$kdir/kubectl" ]; then
    say "building kubectl $kver (first run only, a few minutes)"
    build kubectl "$kver" "$hack/tools/kubernetes" ./cmd/kubectl "$kdir/kubectl" "$stamp"
  fi
  printf 'ETCD=%s\nKUBE_APISERVER=%s\nKUBECTL=%s\n' "$edir/etcd" "$kdir/kube-apiserver" "$kdir/kubectl"
}

# kubectl alone (the chart's unit tests render manifests/ with `kubectl kustomize`), without
# building the control plane: the same pinned build and cache directory as ensure_control_plane.
ensure_kubectl() {
  if [ -n "${KUBEBUILDER_ASSETS:-}" ] && [ -x "$KUBEBUILDER_ASSETS/kubectl" ]; then echo "KUBECTL=$KUBEBUILDER_ASSETS/kubectl"; return; fi
  local kver minor; kver=$(pinned k8s.io/kubernetes "$hack/tools/kubernetes/go.mod")
  minor=${kver#v1.}; minor=${minor%%.*}
  local out="$cache/tools/kubernetes-$kver/kubectl"
  if [ ! -x "$out" ]; then
    say "building kubectl $kver (first run only, a few minutes)"
    build kubectl "$kver" "$hack/tools/kubernetes" ./cmd/kubectl "$out" "-X k8s.io/component-base/version.gitVersion=$kver -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean"
  fi
  echo "KUBECTL=$out"
}

# gator (Gatekeeper's CLI), for the tests comparing `bouncer verify` with `gator verify`
# (test/unit/verify-vs-gator.test.ts): a Go build into the cache, like OPA.
ensure_gator() {
  local version; version=$(pinned github.com/open-policy-agent/gatekeeper/v3 "$hack/tools/gator/go.mod")
  local out="$cache/tools/gator-$version/gator"
  if [ ! -x "$out" ]; then
    say "building gator $version from the Go module proxy (first run only, about 5 minutes)"
    build gator "$version" "$hack/tools/gator" github.com/open-policy-agent/gatekeeper/v3/cmd/gator "$out"
  fi
  echo "GATOR=$out"
}

# Gatekeeper's manager (its webhook), for bench/gatekeeper-webhook.ts only (not part of `all`):
# the same wrapper module and version as gator, so one go.sum verifies both.
ensure_gatekeeper() {
  local version; version=$(pinned github.com/open-policy-agent/gatekeeper/v3 "$hack/tools/gator/go.mod")
  local out="$cache/tools/gatekeeper-$version/manager"
  if [ ! -x "$out" ]; then
    say "building Gatekeeper's manager $version from the Go module proxy (first run only, about 5 minutes)"
    build gatekeeper "$version" "$hack/tools/gator" github.com/open-policy-agent/gatekeeper/v3 "$out"
  fi
  echo "GATEKEEPER=$out"
}

# Helm, for the chart's tests (test/unit/helm-*.test.ts, test/e2e/helm.test.ts): a Go build into
# the cache, like OPA; HELM_BIN (or a `helm` on PATH) of the pinned version wins.
ensure_helm() {
  local version; version=$(pinned helm.sh/helm/v4 "$hack/tools/helm/go.mod")
  local candidate=${HELM_BIN:-$(command -v helm || true)}
  if [ -n "$candidate" ] && "$candidate" version --template '{{.Version}}' 2>/dev/null | grep -qx "$version"; then
    echo "HELM=$candidate"; return
  fi
  [ -z "${HELM_BIN:-}" ] || say "HELM_BIN=$HELM_BIN is not Helm ${version}; using the pinned build instead"
  local out="$cache/tools/helm-$version/helm"
  if [ ! -x "$out" ]; then
    say "building Helm $version from the Go module proxy (first run only, about 3-5 minutes)"
    build helm "$version" "$hack/tools/helm" helm.sh/helm/v4/cmd/helm "$out" "-X helm.sh/helm/v4/internal/version.version=$version -X helm.sh/helm/v4/internal/version.metadata= -X helm.sh/helm/v4/internal/version.gitTreeState=clean"
  fi
  echo "HELM=$out"
}

# Test-only tools: ShellCheck (test/unit/shellcheck.test.ts) and promtool
# (test/unit/alerts.test.ts). Nothing is installed system-wide, ever: the Debian package is
# downloaded and unpacked into the cache (so promtool comes without the Prometheus server
# and its service), and only in CI (CI=true) or when asked (BOUNCER_INSTALL_TEST_TOOLS=1).
# Otherwise this says what is missing and the tests that need it are skipped.
fetch_allowed() { [ "${CI:-}" = true ] || [ "${BOUNCER_INSTALL_TEST_TOOLS:-}" = 1 ]; }

# ensure_debian_tool NAME PACKAGE WHAT_NEEDS_IT
ensure_debian_tool() {
  local name=$1 package=$2 needed_by=$3 dir="$cache/tools/debian-$2"
  local var; var=$(printf '%s' "$name" | tr '[:lower:]' '[:upper:]')
  if command -v "$name" >/dev/null; then echo "$var=$(command -v "$name")"; return; fi
  if [ -x "$dir/usr/bin/$name" ]; then echo "$var=$dir/usr/bin/$name"; return; fi
  if ! fetch_allowed; then
    say "$name is not installed: $needed_by skipped. BOUNCER_INSTALL_TEST_TOOLS=1 fetches it into $dir (the Debian package $package unpacked, nothing installed system-wide), or put $name on PATH"
    return
  fi
  if ! command -v apt-get >/dev/null || ! command -v dpkg-deb >/dev/null; then
    say "$name is missing and this is not a Debian/Ubuntu machine (no apt-get/dpkg-deb): put $name on PATH"
    return
  fi
  local tmp; tmp=$(mktemp -d)
  say "fetching $name: Debian package $package, unpacked into $dir (not installed)"
  # apt-get download needs package lists; on a fresh machine only root can fetch them.
  if ! (cd "$tmp" && apt-get download -qq "$package" >&2 2>/dev/null); then
    if [ "$(id -u)" -eq 0 ]; then apt-get update -qq >&2 || true; fi
    (cd "$tmp" && apt-get download -qq "$package" >&2) || { say "apt-get could not download $package"; rm -rf "$tmp"; return; }
  fi
  mkdir -p "$dir.tmp.$$" && dpkg-deb -x "$tmp"/*.deb "$dir.tmp.$$" && rm -rf "$dir" && mv "$dir.tmp.$$" "$dir"
  rm -rf "$tmp"
  if [ -x "$dir/usr/bin/$name" ]; then echo "$var=$dir/usr/bin/$name"; else say "$package has no usr/bin/$name"; fi
}

ensure_test_tools() {
  ensure_debian_tool shellcheck shellcheck 'test/unit/shellcheck.test.ts'
  ensure_debian_tool promtool prometheus 'the promtool tests (test/unit/alerts.test.ts, dashboards.test.ts)'
}

# The kind CLI alone (hack/kind-e2e.sh, when kind is not on PATH).
ensure_kind_cli() {
  local version; version=$(pinned sigs.k8s.io/kind "$hack/tools/kind/cli/go.mod")
  local out="$cache/tools/kind-$version/kind"
  if [ ! -x "$out" ]; then
    say "building kind $version (first run only, about a minute)"
    build kind "$version" "$hack/tools/kind/cli" sigs.k8s.io/kind "$out"
  fi
  echo "KIND=$out"
}

# The kind node image's parts (hack/kind-node-image.sh): the kind CLI, the Kubernetes node and
# control-plane binaries from the same wrapper module as kube-apiserver, and etcd, CoreDNS and
# pause at the versions kubeadm pins for that Kubernetes version (hack/tools/kind/*).
ensure_kind() {
  local kver minor etcd_version coredns_version
  kver=$(pinned k8s.io/kubernetes "$hack/tools/kubernetes/go.mod")
  minor=${kver#v1.}; minor=${minor%%.*}
  etcd_version=$(pinned go.etcd.io/etcd/server/v3 "$hack/tools/kind/etcd/go.mod")
  coredns_version=$(pinned github.com/coredns/coredns "$hack/tools/kind/coredns/go.mod")
  local kdir="$cache/tools/kubernetes-$kver"
  local stamp="-X k8s.io/component-base/version.gitVersion=$kver -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean"
  local b var
  for b in kube-apiserver kubectl kubeadm kubelet kube-controller-manager kube-scheduler kube-proxy; do
    if [ ! -x "$kdir/$b" ]; then
      say "building $b $kver (first run only, minutes each once the Kubernetes modules are cached)"
      build "$b" "$kver" "$hack/tools/kubernetes" "./cmd/$b" "$kdir/$b" "$stamp"
    fi
    var=$(printf '%s' "$b" | tr '[:lower:]-' '[:upper:]_')
    echo "$var=$kdir/$b"
  done
  ensure_kind_cli
  out="$cache/tools/etcd-$etcd_version/etcd"
  if [ ! -x "$out" ]; then
    say "building etcd $etcd_version (first run only)"
    build etcd "$etcd_version" "$hack/tools/kind/etcd" . "$out"
  fi
  echo "KIND_ETCD=$out"
  out="$cache/tools/coredns-$coredns_version/coredns"
  if [ ! -x "$out" ]; then
    say "building CoreDNS $coredns_version (first run only)"
    build coredns "$coredns_version" "$hack/tools/kind/coredns" . "$out"
  fi
  echo "COREDNS=$out"
  # pause has no dependencies: its key is its source.
  local key; key=$(cat "$hack/tools/kind/pause/go.mod" "$hack/tools/kind/pause/main.go" | sha256sum | cut -c1-16)
  out="$cache/tools/pause-$key/pause"
  [ -x "$out" ] || build pause "$key" "$hack/tools/kind/pause" . "$out"
  echo "PAUSE=$out"
}

case "$what" in
  opa) ensure_opa ;;
  control-plane) ensure_control_plane ;;
  gator) ensure_gator ;;
  gatekeeper) ensure_gatekeeper ;;
  helm) ensure_helm ;;
  kubectl) ensure_kubectl ;;
  test-tools) ensure_test_tools ;;
  kind) ensure_kind ;;
  kind-cli) ensure_kind_cli ;;
  all) ensure_opa; ensure_control_plane; ensure_gator; ensure_helm; ensure_test_tools ;;
  *) say "usage: $0 [opa|control-plane|kubectl|gator|gatekeeper|helm|test-tools|kind|kind-cli|all]"; exit 2 ;;
esac
