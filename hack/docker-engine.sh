#!/usr/bin/env bash
# A Docker engine for the image tests, without surprises on a user's machine.
#
#   hack/docker-engine.sh start   prints DOCKER_HOST=<socket> of an engine that answers `docker info`
#   hack/docker-engine.sh stop    stops the dockerd that `start` launched (and only that one)
#
# `start`, in order:
#   1. an engine that already answers (DOCKER_HOST, or the client's default): used as it is,
#      nothing is started, and `stop` leaves it alone;
#   2. else, only when system packages may be installed — CI=true or BOUNCER_INSTALL_DOCKER=1 —
#      and we are root: apt-get installs docker.io (Debian's dockerd, containerd, runc) and
#      debootstrap if they are missing, then dockerd is started on its own socket with its own
#      data root under the cache ($BOUNCER_CACHE/docker, default ~/.cache/bouncer/docker), its
#      pid recorded so that `stop` ends exactly that process;
#   3. else exit 3 with one line on stderr saying what is missing (tests skip on it).
# Progress goes to stderr; the only line on stdout is DOCKER_HOST=...
set -euo pipefail
cache="${BOUNCER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bouncer}"
root="$cache/docker"
sock="$root/docker.sock"
pidfile="$root/dockerd.pid"
say() { printf '[docker-engine] %s\n' "$*" >&2; }
skip() { say "no Docker engine: $*"; exit 3; }

answers() { timeout 20 docker ${1:+-H "$1"} info >/dev/null 2>&1; }

ours_running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

# bounded_runc PATH: when this host's capability bounding set lacks some of the kernel's
# capabilities (seen in VMs without CAP_SYS_RESOURCE), writes PATH, a runc that first removes
# the missing ones from the container's config, and succeeds; else fails and writes nothing.
# Docker 20.10 grants a --privileged container (kind's nodes) every capability it knows, and
# runc then fails with "unable to apply caps: operation not permitted".
bounded_runc() {
  local path=$1 last bnd full real
  last=$(cat /proc/sys/kernel/cap_last_cap 2>/dev/null) || return 1
  bnd=$((16#$(sed -n 's/^CapBnd:\s*//p' /proc/self/status)))
  full=$(((1 << (last + 1)) - 1))
  [ "$bnd" -ne "$full" ] || return 1
  command -v jq >/dev/null || { say "jq is needed to filter capabilities for privileged containers; they will fail to start"; return 1; }
  real=$(command -v runc) || return 1
  local names=(CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP LINUX_IMMUTABLE
    NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER SYS_MODULE SYS_RAWIO SYS_CHROOT
    SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG MKNOD LEASE
    AUDIT_WRITE AUDIT_CONTROL SETFCAP MAC_OVERRIDE MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ
    PERFMON BPF CHECKPOINT_RESTORE)
  local allowed=() i
  for i in "${!names[@]}"; do
    if [ $(((bnd >> i) & 1)) -eq 1 ]; then allowed+=("\"CAP_${names[$i]}\""); fi
  done
  local list; list=$(IFS=,; echo "${allowed[*]}")
  cat > "$path.tmp" <<EOF
#!/usr/bin/env bash
# Written by hack/docker-engine.sh: $real, after removing from the container's config the
# capabilities this host's bounding set does not have.
set -euo pipefail
bundle=. process= command= next=
for arg in "\$@"; do
  case "\$next" in
    bundle) bundle=\$arg; next=; continue ;;
    process) process=\$arg; next=; continue ;;
  esac
  case "\$arg" in
    create|run|exec) [ -n "\$command" ] || command=\$arg ;;
    --bundle|-b) next=bundle ;;
    --bundle=*) bundle=\${arg#--bundle=} ;;
    --process|-p) next=process ;;
    --process=*) process=\${arg#--process=} ;;
  esac
done
# bound FILE PATH: keeps in the capability sets at PATH (a JSON path array) of FILE only the
# host's capabilities.
bound() {
  jq -c --argjson p "\$2" '[$list] as \$allowed | if getpath(\$p) then setpath(\$p; getpath(\$p) | with_entries(.value |= map(select(. as \$c | \$allowed | index(\$c))))) else . end' "\$1" > "\$1.bounded"
  mv -f "\$1.bounded" "\$1"
}
case "\$command" in
  create|run) if [ -f "\$bundle/config.json" ]; then bound "\$bundle/config.json" '["process","capabilities"]'; fi ;;
  exec) if [ -n "\$process" ] && [ -f "\$process" ]; then bound "\$process" '["capabilities"]'; fi ;;
esac
exec $real "\$@"
EOF
  chmod 0755 "$path.tmp" && mv -f "$path.tmp" "$path"
}

start() {
  if ours_running && answers "unix://$sock"; then echo "DOCKER_HOST=unix://$sock"; return; fi
  if command -v docker >/dev/null && answers "${DOCKER_HOST:-}"; then
    echo "DOCKER_HOST=${DOCKER_HOST:-$(docker context inspect --format '{{.Endpoints.docker.Host}}' 2>/dev/null || echo unix:///var/run/docker.sock)}"
    return
  fi
  local may_install=0
  [ "${CI:-}" = true ] || [ "${BOUNCER_INSTALL_DOCKER:-}" = 1 ] && may_install=1
  if ! command -v dockerd >/dev/null || ! command -v debootstrap >/dev/null; then
    [ "$may_install" = 1 ] || skip "no engine answers \`docker info\` and dockerd/debootstrap are not installed; set BOUNCER_INSTALL_DOCKER=1 (as root, Debian/Ubuntu) to install docker.io and debootstrap with apt-get, or start a Docker engine"
    [ "$(id -u)" = 0 ] || skip "installing docker.io needs root (running as uid $(id -u))"
    command -v apt-get >/dev/null || skip "installing docker.io needs apt-get (Debian/Ubuntu)"
    say "installing docker.io and debootstrap with apt-get"
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io debootstrap >&2
  fi
  [ "$(id -u)" = 0 ] || skip "dockerd is installed but not running, and starting it needs root (running as uid $(id -u))"
  [ "$may_install" = 1 ] || skip "dockerd is installed but no engine answers; set BOUNCER_INSTALL_DOCKER=1 to let the tests start one (data root $root/data), or start it yourself"
  mkdir -p "$root/data" "$root/exec"
  say "starting dockerd (data root $root/data, socket $sock)"
  local runtime=()
  if bounded_runc "$root/runc-bounded"; then
    say "this host's capability bounding set lacks capabilities runc knows: containers run through $root/runc-bounded"
    runtime=(--add-runtime "bounded=$root/runc-bounded" --default-runtime bounded)
  fi
  # Its own socket, data, exec root and pid file: nothing shared with a system dockerd.
  # --bridge=none: the tests use --network host only, and a bridge would need iptables
  # (kind creates a bridge network of its own; its published ports go through docker-proxy).
  nohup dockerd --host "unix://$sock" --data-root "$root/data" --exec-root "$root/exec" \
    --pidfile "$root/dockerd.pidfile" --bridge=none --iptables=false --ip-masq=false "${runtime[@]}" \
    >"$root/dockerd.log" 2>&1 &
  echo $! > "$pidfile"
  local _
  for _ in $(seq 1 60); do
    if answers "unix://$sock"; then
      say "dockerd ready (pid $(cat "$pidfile"))"
      echo "DOCKER_HOST=unix://$sock"
      return
    fi
    kill -0 "$(cat "$pidfile")" 2>/dev/null || { tail -n 30 "$root/dockerd.log" >&2; rm -f "$pidfile"; skip "dockerd exited during startup (log above: $root/dockerd.log)"; }
    sleep 0.5
  done
  tail -n 30 "$root/dockerd.log" >&2
  skip "dockerd did not answer within 30 s (log: $root/dockerd.log)"
}

stop() {
  ours_running || { rm -f "$pidfile"; return 0; }
  local pid; pid=$(cat "$pidfile")
  say "stopping dockerd (pid $pid)"
  kill -TERM "$pid"
  local _
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$pidfile"; return 0; }
    sleep 0.5
  done
  say "dockerd (pid $pid) did not stop within 30 s; killing it"
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$pidfile"
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  *) say "usage: $0 start|stop"; exit 2 ;;
esac
