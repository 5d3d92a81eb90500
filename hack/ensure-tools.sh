#!/usr/bin/env bash
# Makes the pinned toolchain available and prints where it is, one NAME=PATH per line:
#   OPA, ETCD, KUBE_APISERVER, KUBECTL, and with `all` SHELLCHECK and PROMTOOL (when they can be had)
#
# Versions are pinned by the wrapper modules under hack/tools/ (their go.mod is the single
# source of truth). Binaries are built with the Go toolchain from the Go module proxy
# into a cache outside the work tree, keyed by version, and reused on every later run.
# What the user already provides wins:
#   OPA_BIN                 an OPA CLI of the pinned version (else `opa` on PATH if it is the pinned version)
#   KUBEBUILDER_ASSETS      a directory holding kube-apiserver, etcd and kubectl (the envtest convention)
#   BOUNCER_CACHE           cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/bouncer)
#
# Usage: hack/ensure-tools.sh [opa|control-plane|all]   (default all)
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

# ShellCheck lints hack/*.sh (test/unit/shellcheck.test.ts). It is a convenience, not a
# prerequisite: without root or apt the test is skipped, so this only warns.
ensure_shellcheck() {
  if ! command -v shellcheck >/dev/null; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
      say "installing shellcheck with apt-get"
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck; } >&2 \
        || say "apt-get could not install shellcheck; the shellcheck test will be skipped"
    else
      say "shellcheck is not installed (apt-get install shellcheck); the shellcheck test will be skipped"
    fi
  fi
  if command -v shellcheck >/dev/null; then echo "SHELLCHECK=$(command -v shellcheck)"; fi
}

# promtool (Debian package `prometheus`) checks and unit-tests the alerting rules of
# manifests/overlays/monitoring (test/unit/alerts.test.ts). Unlike shellcheck that test fails
# without it, so this installs it when it can and otherwise warns.
ensure_promtool() {
  if ! command -v promtool >/dev/null; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
      say "installing promtool with apt-get: Debian package prometheus (it also brings the Prometheus server, whose service apt enables under systemd)"
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus; } >&2 \
        || say "apt-get could not install prometheus; test/unit/alerts.test.ts will fail without promtool"
    else
      say "promtool is not installed (apt-get install prometheus, or a release from prometheus.io); test/unit/alerts.test.ts will fail"
    fi
  fi
  if command -v promtool >/dev/null; then echo "PROMTOOL=$(command -v promtool)"; fi
}

case "$what" in
  opa) ensure_opa ;;
  control-plane) ensure_control_plane ;;
  all) ensure_opa; ensure_control_plane; ensure_shellcheck; ensure_promtool ;;
  *) say "usage: $0 [opa|control-plane|all]"; exit 2 ;;
esac
