#!/usr/bin/env bash
# A kind node image built here, without pulling any image: for machines that reach package
# registries (Debian's apt mirror, the Go module proxy) but no container registry.
#
#   hack/kind-node-image.sh    prints KIND_NODE_IMAGE=<name:tag> of a node image in the Docker
#                              engine that DOCKER_HOST (or the client's default) points at
#
# What it holds is what kind's own node image holds (kind v0.33.0: images/base/Dockerfile and
# pkg/build/nodeimage, read from the kind module in the Go module cache), made of:
#   rootfs      Debian (DEBIAN_SUITE, kind's base is Debian trixie too) from debootstrap
#               --variant=minbase with the packages kind's base installs that the node uses
#               (systemd, iptables, nftables, conntrack, iproute2, ...) and, instead of kind's
#               own builds, Debian's containerd, runc and containernetworking-plugins
#   kind files  kind's images/base/files (entrypoint, /kind/bin hooks, systemd units for
#               containerd and kubelet, sysctl, crictl.yaml) taken from the pinned kind module,
#               never copied into this repository; containerd's config is kind's, with the
#               sandbox image pointed at the pause image below, the fuse-overlayfs proxy
#               plugin (used only by rootless kind; no snapshotter binary here) removed, and
#               restrict_oom_score_adj on (see node_rootfs)
#   binaries    kubeadm, kubelet, kubectl in /usr/bin, as `kind build node-image` installs them
#               (built by hack/ensure-tools.sh kind from the pinned k8s.io/kubernetes module)
#   images      in containerd's k8s.io namespace, under exactly the names
#               `kubeadm config images list` prints, so kubeadm pulls nothing:
#                 kube-apiserver, kube-controller-manager, kube-scheduler  FROM scratch
#                 kube-proxy   the binary on a Debian minbase with iptables/nftables/conntrack
#                              (it runs iptables-restore), like upstream's distroless-iptables
#                 etcd         the release kubeadm pins (3.6.6), FROM scratch
#                 coredns      the release kubeadm pins, with the plugins of kubeadm's Corefile
#               and two images of this node image's own (localhost/bouncer-kind/...):
#                 pause        the sandbox image containerd is configured with (a Go pause,
#                              hack/tools/kind/pause); kind's image does the same with its own tag
#                 cni          the kube-proxy base, running the default CNI manifest below
#   manifests   /kind/manifests/default-cni.yaml: kind's templated manifest slot holds a
#               DaemonSet writing a ptp + host-local CNI config over the cluster's pod subnet
#               instead of kindnetd (its module, sigs.k8s.io/kind/images/kindnetd, is not served
#               by the Go module proxy): one-node clusters only (no routes between nodes, no
#               NetworkPolicy enforcement); /kind/manifests/default-storage.yaml: the default
#               StorageClass "standard" without a dynamic provisioner (local-path-provisioner is
#               left out: nothing here needs volumes)
#
# Every part is cached by content under $BOUNCER_CACHE (default ~/.cache/bouncer): the
# debootstrap trees as tarballs, the binaries by version, and the image itself is tagged with a
# hash of all its inputs, so an unchanged input rebuilds nothing (a warm run is seconds).
# Needs root (debootstrap, chroot), docker with a running engine, and Go.
#
# cgroup v1 hosts: kubelet 1.35 refuses cgroup v1 unless its configuration says
# failCgroupV1: false; that is cluster configuration, not image content: hack/kind-e2e.sh passes
# it in the kind config's kubeadmConfigPatches.
#
# Environment: DEBIAN_MIRROR (default http://deb.debian.org/debian), BOUNCER_CACHE.
set -euo pipefail
self="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
hack="$(dirname "$self")"
cd "$hack/.."
cache="${BOUNCER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bouncer}"

DEBIAN_SUITE=trixie
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
# kind's base package list (images/base/Dockerfile) minus what only storage e2e tests, rootless
# kind or its own diagnostics use (nfs-common, open-iscsi, e2fsprogs, fuse-overlayfs), plus the
# container runtime and CNI plugins kind builds itself.
NODE_PACKAGES=systemd,conntrack,iptables,nftables,iproute2,ethtool,util-linux,mount,kmod,libseccomp2,pigz,bash,ca-certificates,curl,jq,procps,containerd,runc,containernetworking-plugins
# kube-proxy's runtime needs (upstream: distroless-iptables).
PROXY_PACKAGES=iptables,nftables,conntrack,iproute2,ca-certificates,tzdata
IMAGE_REPO=localhost/bouncer-kind

say() { printf '[kind-node-image] %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
have_image() { docker image inspect "$1" >/dev/null 2>&1; }

# debootstrap_tar NAME PACKAGES -> a tarball of a Debian minbase tree with PACKAGES, made once
# per suite, package list and mirror.
debootstrap_tar() {
  local name=$1 packages=$2 key
  key=$(printf '%s\n' "$DEBIAN_SUITE" "$packages" "$DEBIAN_MIRROR" | sha256sum | cut -c1-16)
  local tar="$cache/images/kind-$name-$DEBIAN_SUITE-$key.tar"
  if [ ! -f "$tar" ]; then
    [ "$(id -u)" = 0 ] || die "debootstrap needs root"
    command -v debootstrap >/dev/null || die "debootstrap is not installed (apt-get install debootstrap)"
    mkdir -p "$cache/images"
    local dir; dir=$(mktemp -d "$cache/images/.kind-$name-XXXXXX")
    say "debootstrap --variant=minbase $DEBIAN_SUITE for $name (first run only, a minute or two)"
    debootstrap --variant=minbase --include="$packages" "$DEBIAN_SUITE" "$dir" "$DEBIAN_MIRROR" >"$dir.log" 2>&1 ||
      { tail -n 20 "$dir.log" >&2; rm -rf "$dir"; die "debootstrap failed (log above)"; }
    rm -rf "$dir/var/cache/apt/archives/"*.deb "$dir/var/lib/apt/lists/"* "$dir/var/log/"*
    tar -C "$dir" --numeric-owner --sort=name -cf "$tar.tmp" .
    mv -f "$tar.tmp" "$tar"
    rm -rf "$dir" "$dir.log"
  fi
  echo "$tar"
}

# import_dir DIR TAG [docker import --change ...]: DIR as a one-layer image.
import_dir() {
  local dir=$1 tag=$2; shift 2
  chmod 0755 "$dir" # mktemp made it 0700: the image's / must be traversable by any user
  tar -C "$dir" --numeric-owner --sort=name --mtime=@0 --xattrs --xattrs-include=security.capability -c . |
    docker import "$@" - "$tag" >/dev/null
}

# scratch_image TAG BINARY NAME [USER [FILE_CAPS]]: BINARY as /usr/local/bin/NAME in an image
# of its own, with the CA bundle and zone info a Go server may read, as upstream's distroless
# bases have. FILE_CAPS (setcap syntax) go on the binary, as upstream CoreDNS's image sets
# cap_net_bind_service: a non-root process keeps a capability across exec only that way.
scratch_image() {
  local tag=$1 binary=$2 name=$3 user=${4:-0} caps=${5:-} dir
  have_image "$tag" && return
  dir=$(mktemp -d)
  mkdir -p "$dir/usr/local/bin" "$dir/etc/ssl/certs" "$dir/tmp" "$dir/var/lib"
  chmod 1777 "$dir/tmp"
  cp "$binary" "$dir/usr/local/bin/$name"
  if [ -n "$caps" ]; then setcap "$caps" "$dir/usr/local/bin/$name" || die "setcap $caps failed (libcap2-bin)"; fi
  tar -C "$dir" -xf "$proxy_tar" ./etc/ssl/certs/ca-certificates.crt ./usr/share/zoneinfo 2>/dev/null || true
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n' > "$dir/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\n' > "$dir/etc/group"
  say "image $tag"
  import_dir "$dir" "$tag" --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' --change "USER $user" \
    --change "ENTRYPOINT [\"/usr/local/bin/$name\"]"
  rm -rf "$dir"
}

main() {
  command -v docker >/dev/null || die "docker (the client) is not installed"
  docker info >/dev/null 2>&1 || die "no Docker engine answers (hack/docker-engine.sh start)"
  local tools kind_module
  tools=$(bash "$hack/ensure-tools.sh" kind)
  tool() { sed -n "s/^$1=//p" <<<"$tools"; }
  local kver; kver=$("$(tool KUBEADM)" version -o short)
  kind_module=$(cd "$hack/tools/kind/cli" && go list -m -f '{{.Dir}}' sigs.k8s.io/kind)
  [ -d "$kind_module/images/base/files" ] || die "kind's images/base/files not found in $kind_module"

  local node_tar proxy_tar
  node_tar=$(debootstrap_tar node "$NODE_PACKAGES")
  proxy_tar=$(debootstrap_tar proxy "$PROXY_PACKAGES")

  # The image's key: every input (recipe, trees, binaries, kind's files).
  local key
  key=$({ declare -f main scratch_image import_dir node_rootfs cni_manifest storage_manifest
          printf '%s\n' "$NODE_PACKAGES" "$PROXY_PACKAGES" "$(basename "$node_tar")" "$(basename "$proxy_tar")"
          for b in KUBEADM KUBELET KUBECTL KUBE_APISERVER KUBE_CONTROLLER_MANAGER KUBE_SCHEDULER KUBE_PROXY KIND_ETCD COREDNS PAUSE; do sha256sum < "$(tool $b)"; done
          (cd "$kind_module/images/base/files" && find . -type f -print0 | sort -z | xargs -0 sha256sum); } | sha256sum | cut -c1-16)
  local node_image="$IMAGE_REPO/node:$kver-$key"
  if have_image "$node_image"; then echo "KIND_NODE_IMAGE=$node_image"; return; fi

  # Component images, named as kubeadm lists them.
  local images=() etcd_tag coredns_tag
  mapfile -t images < <("$(tool KUBEADM)" config images list --kubernetes-version "$kver")
  etcd_tag=$(printf '%s\n' "${images[@]}" | grep '/etcd:')
  coredns_tag=$(printf '%s\n' "${images[@]}" | grep '/coredns:')
  local etcd_version=${etcd_tag##*:}; etcd_version=${etcd_version%-*}
  # The tags must name what they hold (captured first: grep -q would cut the pipe).
  local said
  said=$("$(tool KIND_ETCD)" --version)
  grep -q "^etcd Version: ${etcd_version}\$" <<<"$said" || die "kubeadm wants $etcd_tag but hack/tools/kind/etcd pins ${said%%$'\n'*}"
  said=$("$(tool COREDNS)" -version)
  grep -q "^CoreDNS-${coredns_tag##*:v}\$" <<<"$said" || die "kubeadm wants $coredns_tag but hack/tools/kind/coredns pins ${said%%$'\n'*}"
  local k8s=registry.k8s.io
  scratch_image "$k8s/kube-apiserver:$kver" "$(tool KUBE_APISERVER)" kube-apiserver
  scratch_image "$k8s/kube-controller-manager:$kver" "$(tool KUBE_CONTROLLER_MANAGER)" kube-controller-manager
  scratch_image "$k8s/kube-scheduler:$kver" "$(tool KUBE_SCHEDULER)" kube-scheduler
  scratch_image "$etcd_tag" "$(tool KIND_ETCD)" etcd
  scratch_image "$coredns_tag" "$(tool COREDNS)" coredns 65532 cap_net_bind_service=+ep
  local pause_image="$IMAGE_REPO/pause:$key" cni_image="$IMAGE_REPO/cni:$key" dir
  scratch_image "$pause_image" "$(tool PAUSE)" pause 65535
  if ! have_image "$k8s/kube-proxy:$kver" || ! have_image "$cni_image"; then
    dir=$(mktemp -d); tar -C "$dir" -xf "$proxy_tar"
    install -m 0755 "$(tool KUBE_PROXY)" "$dir/usr/local/bin/kube-proxy"
    say "image $k8s/kube-proxy:$kver"
    import_dir "$dir" "$k8s/kube-proxy:$kver" --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'ENTRYPOINT ["/usr/local/bin/kube-proxy"]'
    rm -f "$dir/usr/local/bin/kube-proxy"
    say "image $cni_image"
    import_dir "$dir" "$cni_image" --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' --change 'CMD ["/bin/sh"]'
    rm -rf "$dir"
  fi
  local all=("${images[@]/*pause*/}" "$pause_image" "$cni_image")

  # The node's base: the Debian tree with kind's files, as kind's base Dockerfile lays it out.
  local base="$IMAGE_REPO/node-base:$key"
  if ! have_image "$base"; then
    dir=$(mktemp -d)
    node_rootfs "$dir" "$kind_module/images/base/files" "$pause_image" "$kver" "$cni_image" "$tools"
    say "image $base"
    import_dir "$dir" "$base.import" --change 'ENV container=docker' \
      --change 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]'
    rm -rf "$dir"
    # systemd stops on SIGRTMIN+3, not SIGTERM; `docker import` cannot set STOPSIGNAL, a
    # one-line build (no context, the classic builder) can, and the commit below keeps it.
    printf 'FROM %s\nSTOPSIGNAL SIGRTMIN+3\n' "$base.import" | DOCKER_BUILDKIT=0 docker build -q -t "$base" - >/dev/null 2>&1 ||
      die "could not set the node image's stop signal"
    docker rmi "$base.import" >/dev/null
  fi

  # Then, as `kind build node-image` does: a container of the base, containerd started in it,
  # the images imported into its k8s.io namespace (pinned, so kubelet's image GC keeps them),
  # and the container committed.
  local archive; archive=$(mktemp -d)
  local image
  for image in "${all[@]}"; do
    [ -n "$image" ] || continue
    docker save "$image" -o "$archive/$(printf '%s' "$image" | tr '/:' '__').tar"
  done
  local id; id="bouncer-kind-build-$key-$$"
  docker run -d --name "$id" --entrypoint=sleep --security-opt seccomp=unconfined "$base" infinity >/dev/null
  # shellcheck disable=SC2064 # the values now, for the exit
  trap "docker rm -f -v '$id' >/dev/null 2>&1 || true; rm -rf '$archive'" EXIT
  docker exec "$id" bash -c 'nohup containerd >/tmp/containerd.log 2>&1 &
    for _ in $(seq 1 50); do [ -S /run/containerd/containerd.sock ] && ctr version >/dev/null 2>&1 && exit 0; sleep 0.2; done
    cat /tmp/containerd.log; exit 1'
  local f
  for f in "$archive"/*.tar; do
    docker exec -i "$id" ctr --namespace=k8s.io images import --label=io.cri-containerd.pinned=pinned \
      --all-platforms --no-unpack --digests - < "$f" >/dev/null
  done
  docker exec "$id" ctr --namespace=k8s.io images list -q | grep -v '^sha256:' | sort >&2
  # cri-base.json: containerd's default spec with kind's createContainer hook, as kind's base does.
  docker exec "$id" bash -c "ctr oci spec | jq '.hooks.createContainer[.hooks.createContainer| length] |= . + {\"path\": \"/kind/bin/mount-product-files.sh\"}' | jq 'del(.process.rlimits)' > /etc/containerd/cri-base.json"
  # Stopped before the commit, so its store is consistent (sleep, PID 1, leaves it a zombie).
  docker exec "$id" bash -c 'pkill -x containerd
    for _ in $(seq 1 150); do ps -C containerd -o stat= | grep -qv Z || exit 0; sleep 0.2; done
    ps -ef; exit 1' || die "containerd did not stop in the build container"
  docker exec "$id" rm -rf /tmp/containerd.log
  docker commit --change 'ENTRYPOINT [ "/usr/local/bin/entrypoint", "/sbin/init" ]' "$id" "$node_image" >/dev/null
  say "node image $node_image"
  # Images of an older recipe are dead weight in the engine.
  docker images --format '{{.Repository}}:{{.Tag}}' "$IMAGE_REPO/*" | grep -v -e "-$key\$" -e ":$key\$" | xargs -r docker rmi >/dev/null 2>&1 || true
  echo "KIND_NODE_IMAGE=$node_image"
}

# node_rootfs DIR KIND_FILES PAUSE_IMAGE KUBE_VERSION CNI_IMAGE TOOLS: the node's tree in DIR.
node_rootfs() {
  local dir=$1 files=$2 pause_image=$3 kver=$4 cni_image=$5 tools=$6
  tool() { sed -n "s/^$1=//p" <<<"$tools"; }
  tar -C "$dir" -xf "$node_tar"
  # The COPY lines of kind's base Dockerfile, with its modes.
  install -m 0755 "$files"/usr/local/bin/* "$dir/usr/local/bin/"
  mkdir -p "$dir/kind/bin" "$dir/LICENSES" "$dir/etc/containerd" "$dir/etc/default" "$dir/etc/sysctl.d" \
    "$dir/etc/systemd/system/kubelet.service.d" "$dir/etc/kubernetes/manifests" "$dir/kind/manifests"
  install -m 0644 "$files"/kind/README.txt "$dir/kind/"
  install -m 0755 "$files"/kind/bin/* "$dir/kind/bin/"
  install -m 0644 "$files"/LICENSES/* "$dir/LICENSES/"
  install -m 0644 "$files"/etc/crictl.yaml "$dir/etc/"
  install -m 0644 "$files"/etc/default/* "$dir/etc/default/"
  install -m 0644 "$files"/etc/sysctl.d/* "$dir/etc/sysctl.d/"
  install -m 0644 "$files"/etc/systemd/system/*.service "$files"/etc/systemd/system/*.slice "$dir/etc/systemd/system/"
  install -m 0644 "$files"/etc/systemd/system/kubelet.service.d/* "$dir/etc/systemd/system/kubelet.service.d/"
  rm -f "$dir/etc/systemd/system/containerd-fuse-overlayfs.service"
  # containerd's config: kind's, with our pause image, without the fuse-overlayfs proxy plugin.
  # restrict_oom_score_adj: containers never get a lower OOM score than containerd's own, as
  # kind's entrypoint sets for rootless nodes. Lowering a score needs CAP_SYS_RESOURCE, which
  # some hosts' bounding set lacks; there runc failed every static pod (kubelet asks -998)
  # with "failed to update /proc/self/oom_score_adj: Permission denied". Where containerd runs
  # at kind's -999, nothing asks lower, so this changes nothing.
  sed -e "s#sandbox_image = .*#sandbox_image = \"$pause_image\"#" \
    -e 's#restrict_oom_score_adj = false#restrict_oom_score_adj = true#' \
    -e '/^\[proxy_plugins/,/^ *address = /d' "$files/etc/containerd/config.toml" > "$dir/etc/containerd/config.toml"
  grep -q 'restrict_oom_score_adj = true' "$dir/etc/containerd/config.toml" || die "kind's containerd config has no restrict_oom_score_adj line"
  grep -q "sandbox_image = \"$pause_image\"" "$dir/etc/containerd/config.toml" || die "kind's containerd config has no sandbox_image line"
  # kind's units run /usr/local/bin/containerd (its own build); Debian's is in /usr/bin.
  ln -sf /usr/bin/containerd "$dir/usr/local/bin/containerd"
  # CNI plugins where containerd looks (kind installs them to /opt/cni/bin; Debian in /usr/lib/cni).
  mkdir -p "$dir/opt/cni/bin" "$dir/etc/cni/net.d"
  local p
  for p in host-local loopback ptp portmap bridge; do ln -sf "/usr/lib/cni/$p" "$dir/opt/cni/bin/$p"; done
  # The Kubernetes binaries, where kind's kubelet unit expects them.
  install -m 0755 "$(tool KUBEADM)" "$(tool KUBELET)" "$(tool KUBECTL)" "$dir/usr/bin/"
  printf '%s' "$kver" > "$dir/kind/version"
  cni_manifest "$cni_image" > "$dir/kind/manifests/default-cni.yaml"
  storage_manifest > "$dir/kind/manifests/default-storage.yaml"
  # The RUN lines of kind's base Dockerfile: no services but kind's, journald without kmsg.
  find "$dir/lib/systemd/system/sysinit.target.wants/" -name "systemd-tmpfiles-setup.service" -delete
  rm -f "$dir"/lib/systemd/system/multi-user.target.wants/* "$dir"/etc/systemd/system/*.wants/* \
    "$dir"/lib/systemd/system/local-fs.target.wants/* "$dir"/lib/systemd/system/sockets.target.wants/*udev* \
    "$dir"/lib/systemd/system/sockets.target.wants/*initctl* "$dir"/lib/systemd/system/basic.target.wants/*
  echo "ReadKMsg=no" >> "$dir/etc/systemd/journald.conf"
  ln -sf /usr/lib/systemd/systemd "$dir/sbin/init"
  chroot "$dir" systemctl enable kubelet.service containerd.service undo-mount-hacks.service >/dev/null 2>&1
  chroot "$dir" systemctl mask systemd-binfmt.service >/dev/null 2>&1
  # containerd reads cri-base.json at start; the real one is written in the build container.
  echo '{}' > "$dir/etc/containerd/cri-base.json"
  chmod 755 "$dir/kind" "$dir/kind/bin"
}

# The default CNI, through kind's templated manifest slot (PodSubnet is filled in by kind): a
# DaemonSet writing a ptp + host-local config for this one node, with portmap for hostPorts
# and masquerading of traffic leaving the pod subnet.
cni_manifest() {
  cat <<EOF
# would you kindly template this file
# The node image's CNI (hack/kind-node-image.sh): one node, ptp + host-local over the pod subnet.
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: bouncer-kind-cni
  namespace: kube-system
  labels: { k8s-app: bouncer-kind-cni }
spec:
  selector:
    matchLabels: { k8s-app: bouncer-kind-cni }
  template:
    metadata:
      labels: { k8s-app: bouncer-kind-cni }
    spec:
      hostNetwork: true
      priorityClassName: system-node-critical
      tolerations: [{ operator: Exists }]
      containers:
        - name: install-cni
          image: $1
          imagePullPolicy: IfNotPresent
          command: [/bin/sh, -c]
          args:
            - |
              set -eu
              cat > /etc/cni/net.d/.10-bouncer-kind.conflist <<CONF
              {
                "cniVersion": "0.4.0",
                "name": "bouncer-kind",
                "plugins": [
                  { "type": "ptp", "ipMasq": true, "mtu": 1400,
                    "ipam": { "type": "host-local", "ranges": [[{ "subnet": "{{ .PodSubnet }}" }]],
                              "routes": [{ "dst": "0.0.0.0/0" }] } },
                  { "type": "portmap", "capabilities": { "portMappings": true } }
                ]
              }
              CONF
              mv /etc/cni/net.d/.10-bouncer-kind.conflist /etc/cni/net.d/10-bouncer-kind.conflist
              exec sleep infinity
          resources:
            requests: { cpu: 10m, memory: 10Mi }
          volumeMounts:
            - { name: cni-cfg, mountPath: /etc/cni/net.d }
      volumes:
        - name: cni-cfg
          hostPath: { path: /etc/cni/net.d }
EOF
}

storage_manifest() {
  cat <<'EOF'
# The node image's default StorageClass (hack/kind-node-image.sh): no dynamic provisioner.
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: standard
  annotations:
    storageclass.kubernetes.io/is-default-class: "true"
provisioner: kubernetes.io/no-provisioner
volumeBindingMode: WaitForFirstConsumer
reclaimPolicy: Delete
EOF
}

main "$@"
