#!/usr/bin/env bash
# The container image, end to end: a Docker engine (hack/docker-engine.sh), bouncer's image built
# from the Dockerfile (hack/images.sh, on local stand-ins of the base images where no registry
# is reachable), then the image suite and the cluster-mode e2e suites with bouncer running in
# that image as manifests/base runs the pod (BOUNCER_E2E_RUNTIME=container), against the local
# control plane of the e2e global setup.
#
# Without a Docker engine, and without CI=true or BOUNCER_INSTALL_DOCKER=1 (as root) to start
# one, it says what is missing and exits 0: the rest of the suite does not depend on it. In CI
# (CI=true) a missing engine is a failure.
#
# Environment: IMAGE (default bouncer:e2e); BOUNCER_BASE_IMAGES (see hack/images.sh).
# Usage: hack/test-image.sh [vitest arguments] (default: the suites listed below)
set -euo pipefail
cd "$(dirname "$0")/.."
image=${IMAGE:-bouncer:e2e}
say() { printf '[test-image] %s\n' "$*" >&2; }

status=0
engine=$(bash hack/docker-engine.sh start) || status=$?
if [ "$status" -ne 0 ]; then
  if [ "$status" -eq 3 ] && [ "${CI:-}" != true ]; then
    say "skipped: the image tests need a Docker engine (see the line above)"
    exit 0
  fi
  say "no Docker engine (exit $status)"
  exit 1
fi
trap 'bash hack/docker-engine.sh stop' EXIT
export DOCKER_HOST=${engine#DOCKER_HOST=}

start=$SECONDS
bash hack/images.sh bouncer "$image" >/dev/null
say "image $image ready in $((SECONDS - start)) s"

if [ "$#" -eq 0 ]; then
  set -- test/e2e/image.test.ts test/e2e/enforcement.test.ts test/e2e/bundles.test.ts test/e2e/certificates.test.ts
fi
BOUNCER_E2E_RUNTIME=container BOUNCER_E2E_IMAGE="$image" npx vitest run --project e2e "$@"
